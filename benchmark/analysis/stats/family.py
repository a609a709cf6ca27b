"""The per-family entry point of the moderated crossed t test.

:func:`crossed_family_test` takes one family's transfer pairs (one method's pairs in one
suite) as correctness arrays and returns a :class:`PairTest` per pair;
:func:`crossed_family_arrays` is its vectorised core (also used by the simulations of
:mod:`benchmark.analysis.stats.simulate`). The model, the variance estimate, the moderation
rule and the single-seed rule are in :mod:`benchmark.analysis.stats.crossed`; the prior in
:mod:`benchmark.analysis.stats.moderation`; the sequential looks in
:mod:`benchmark.analysis.stats.sequential`. Shapes: P pairs, L looks, "..." batch.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import (
    FloatArray,
    as_correct_matrix,
    check_probability_level,
    paired_differences,
)
from benchmark.analysis.stats.critical import critical_value
from benchmark.analysis.stats.crossed import (
    GainTestArrays,
    MeanSquares,
    crossed_mean_squares,
    crossed_t_test,
)
from benchmark.analysis.stats.moderation import ROBUST_Z, posterior_variance
from benchmark.analysis.stats.pooling import DEFAULT_POOLING, pair_priors
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import DEFAULT_ALPHA, DEFAULT_MARGIN

#: Largest seed count considered by ``seeds_to_decide`` without a sequential design.
MAX_SEEDS_TO_DECIDE = 20


@dataclass(frozen=True)
class FamilyArrays(GainTestArrays):
    """Vectorised family results, fields shaped (..., P).

    Fields as in :class:`PairTest` (prior_var, prior_df: each pair's prior); seeds_to_decide
    is a float array (NaN = none, the current n_seeds when already decided).
    """

    seeds_to_decide: FloatArray
    n_seeds: FloatArray
    n_examples: FloatArray
    seed_var: FloatArray
    seed_df: FloatArray
    prior_var: FloatArray
    prior_df: FloatArray
    n_looks: FloatArray


def _offset(ms: MeanSquares) -> FloatArray:
    """Known floor of E[v_seed]: MS_int / N (0 when S = 1: the interaction is unknown)."""
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(ms.n_seeds >= 2, ms.ms_interaction / ms.n_examples, 0.0)
    return out


def _check_margin(margin: float) -> float:
    try:
        m = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a positive number, got {margin!r}") from None
    if not (m > 0 and math.isfinite(m)):
        raise ValueError(f"margin must be a positive finite number, got {margin!r}")
    return m


def crossed_family_arrays(
    looks: MeanSquares,
    weights: npt.ArrayLike,
    family: MeanSquares,
    *,
    margin: float = DEFAULT_MARGIN,
    threshold_alpha: float = DEFAULT_ALPHA,
    confidence: float = 0.95,
    candidates: npt.ArrayLike | None = None,
    candidate_weights: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
    prior_z: float | None = None,
    pooling: str = DEFAULT_POOLING,
) -> FamilyArrays:
    """Vectorised core of :func:`crossed_family_test` (for simulations of many families).

    Shapes: ``looks`` fields (..., P, L): the mean squares of each pair's first k seeds at
    each look (padding allowed); weights (..., P, L): the looks' weights, NaN where a look
    was not taken (the taken looks come first; the last taken look is the current data);
    ``family`` fields (..., P): each pair's current data, to fit the prior;
    candidates (C,) seed counts for seeds_to_decide (default 1..20) with candidate_weights
    (C,) (default 1); groups (P,): labels of the pairs sharing reference runs (default: all
    distinct); prior_z: see :func:`benchmark.analysis.stats.moderation.fit_seed_prior`
    (default ``ROBUST_Z``); pooling: which pairs lend seed variance
    (:func:`benchmark.analysis.stats.pooling.pair_priors`). Returns :class:`FamilyArrays` over (..., P).
    """
    margin = _check_margin(margin)
    threshold_alpha = check_probability_level("threshold_alpha", threshold_alpha)
    confidence = check_probability_level("confidence", confidence)
    z = ROBUST_Z if prior_z is None else float(prior_z)
    w = np.asarray(weights, dtype=np.float64)
    taken = ~np.isnan(w)
    if not np.all(taken[..., 0]):
        raise ValueError("every pair needs its first look (weights[..., 0] must be set)")

    # Prior from the family's current data: per pair (..., P), fitted to the pairs it may borrow from.
    fam_v = family.ms_seed / family.n_examples
    fam_d = family.n_seeds - 1.0
    prior_scale, prior_df, pooled = pair_priors(fam_v, fam_d, _offset(family), groups, z=z, pooling=pooling)

    # Moderated seed variance at every look.
    look_d = looks.n_seeds - 1.0  # (..., P, L)
    look_v = looks.ms_seed / looks.n_examples
    scale = prior_scale[..., None] + _offset(looks)
    # Borrow only a prior worth at least the pair's own seed df (module docstring).
    d0 = np.where(prior_df[..., None] >= look_d, prior_df[..., None], 0.0)
    post, post_df = posterior_variance(look_v, look_d, scale, d0)
    cap = pooled[..., None] + np.maximum(look_d - fam_d[..., None], 0.0)
    post_df = np.where(post_df > 0, np.minimum(post_df, np.maximum(cap, look_d)), 0.0)
    post_df = np.where(look_d > 0, post_df, 0.0)  # one seed: not testable (module docstring)
    tests = crossed_t_test(
        looks,
        post,
        post_df,
        margin=margin,
        threshold_alpha=threshold_alpha,
        confidence=confidence,
        look_weight=np.where(taken, w, 1.0),
    )

    # Combine the looks taken (weighted Bonferroni; intersection of intervals).
    with np.errstate(invalid="ignore", divide="ignore"):
        p_seq = np.min(np.where(taken, tests.p_value / np.where(taken, w, 1.0), np.inf), axis=-1)
        t_seq = np.min(np.where(taken, tests.p_tost / np.where(taken, w, 1.0), np.inf), axis=-1)
    n_taken = taken.sum(axis=-1)
    last = n_taken - 1  # (..., P)

    def at_last(a: FloatArray) -> FloatArray:
        out: FloatArray = np.take_along_axis(a, last[..., None], axis=-1)[..., 0]
        return out

    testable = ~np.isnan(at_last(tests.p_value))
    p_seq = np.where(testable, np.minimum(1.0, p_seq), np.nan)
    t_seq = np.where(testable, np.minimum(1.0, t_seq), np.nan)
    lo = np.max(np.where(taken, tests.ci_low, -np.inf), axis=-1)
    hi = np.min(np.where(taken, tests.ci_high, np.inf), axis=-1)
    disjoint = lo > hi
    lo = np.where(testable, np.where(disjoint, at_last(tests.ci_low), lo), np.nan)
    hi = np.where(testable, np.where(disjoint, at_last(tests.ci_high), hi), np.nan)

    # Seeds that would likely decide each pair (projection from the current look).
    if candidates is None:
        cand = np.arange(1, MAX_SEEDS_TO_DECIDE + 1, dtype=np.float64)
    else:
        cand = np.asarray(candidates, dtype=np.float64).reshape(-1)
    cand_w = (
        np.ones_like(cand)
        if candidate_weights is None
        else np.asarray(candidate_weights, dtype=np.float64).reshape(-1)
    )
    s_now = family.n_seeds[..., None]
    d0_proj = np.where(prior_df[..., None] >= cand - 1.0, prior_df[..., None], 0.0)
    df_seed = np.minimum(d0_proj + cand - 1.0, pooled[..., None] + cand - s_now)
    df_seed = np.maximum(df_seed, cand - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        seed_term = at_last(tests.seed_var)[..., None] / cand  # projected to cand seeds
        ex_term = at_last(tests.example_term)[..., None]
        g = np.abs(family.gain)[..., None]
        levels = cand_w * threshold_alpha
        sig = g > critical_value(levels, seed_term, ex_term, df_seed)
        equiv = (margin - g) > critical_value(2.0 * levels, seed_term, ex_term, df_seed)
    hit = (sig | equiv) & (cand > s_now) & np.isfinite(seed_term + ex_term)
    first = np.where(hit.any(axis=-1), cand[np.argmax(hit, axis=-1)], np.nan)
    decided = (p_seq < threshold_alpha) | (t_seq < threshold_alpha)
    to_decide = np.where(testable, np.where(decided, family.n_seeds, first), np.nan)

    return FamilyArrays(
        estimate=np.asarray(family.gain, dtype=np.float64),
        se=at_last(tests.se),
        df=at_last(tests.df),
        statistic=at_last(tests.statistic),
        p_value=p_seq,
        ci_low=lo,
        ci_high=hi,
        p_tost=t_seq,
        mde=at_last(tests.mde),
        seeds_to_decide=to_decide,
        n_seeds=np.asarray(family.n_seeds, dtype=np.float64),
        n_examples=np.asarray(family.n_examples, dtype=np.float64),
        seed_var=at_last(tests.seed_var),
        seed_df=at_last(tests.seed_df),
        prior_var=prior_scale,
        prior_df=prior_df,
        n_looks=n_taken.astype(np.float64),
    )


@dataclass(frozen=True)
class PairTest:
    """Moderated crossed t test of one transfer pair (gains in accuracy units: 0.01 = 1 point).

    - estimate: the gain, mean of d over all seeds and examples;
    - se: sqrt(V); df: Satterthwaite degrees of freedom (reported; p, the interval, TOST and
      the MDE use the calibrated critical values of :mod:`.critical`); statistic: estimate / se;
    - p_value: two-sided p (the sequential p-value under a design);
    - ci_low, ci_high: interval from the same rule (a confidence sequence under a design);
    - p_tost: TOST p-value for -margin < gain < margin (sequential under a design);
    - mde: minimum detectable |gain| at 80% power at the threshold (the last look's share of
      it under a design);
    - seeds_to_decide: the smallest seed count above n_seeds (up to 20, or the design's
      max_seeds) at which the observed gain with the projected variance would be significant
      or equivalent at the threshold; n_seeds when it already is; None when no count in
      range would (or the pair is not testable);
    - n_seeds, n_examples: S and N; seed_var, seed_df: the moderated per-seed gain variance
      and its df; prior_var, prior_df: the family prior s0^2, d0; n_looks: looks combined.

    Every float but estimate is NaN when the pair is not testable (a single seed).
    """

    estimate: float
    se: float
    df: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    p_tost: float
    mde: float
    seeds_to_decide: int | None
    n_seeds: int
    n_examples: int
    seed_var: float
    seed_df: float
    prior_var: float
    prior_df: float
    n_looks: int


def _stack(items: Sequence[MeanSquares]) -> MeanSquares:
    """Stack 0-d mean squares into (len(items),) arrays."""
    return MeanSquares(
        **{
            f.name: np.array([float(getattr(m, f.name)) for m in items], dtype=np.float64)
            for f in fields(MeanSquares)
        }
    )


def crossed_family_test(
    pairs: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    margin: float = DEFAULT_MARGIN,
    threshold_alpha: float = DEFAULT_ALPHA,
    confidence: float = 0.95,
    design: SequentialDesign | None = None,
    groups: Sequence[Hashable] | None = None,
    pooling: str = DEFAULT_POOLING,
) -> list[PairTest]:
    """Moderated crossed t test for every transfer pair of one family.

    Shapes: pairs[j] = (correct_method (S_j, N_j), correct_ref (S_j, N_j)) bool / 0-1; rows
    are seeds in seed order (a sequential look at k seeds uses the first k rows), columns
    the shared test examples. S_j and N_j may differ between pairs (N_j >= 2). Returns one
    :class:`PairTest` per pair, in order; an empty family gives [].

    - margin: equivalence margin of the TOST (default 0.01 = one accuracy point).
    - threshold_alpha: the per-test two-sided threshold the family correction uses (e.g.
      alpha / m for Bonferroni, Holm's strictest step); it sets ``mde`` and
      ``seeds_to_decide`` (significance and TOST both at this level), not the p-values.
    - confidence: level of the interval.
    - design: a :class:`SequentialDesign` (``run --until-decided``) or None (one look).
      With a design, look k (k = first_seeds .. max_seeds, k <= S_j) tests the pair's first
      k seeds; p_value = min(1, min_k p_k / w_k), the same for p_tost (weighted Bonferroni
      over looks: valid under any stopping rule and with any family correction); the
      interval is the intersection of the looks' intervals at levels 1 - w_k (1 - confidence)
      (a confidence sequence; if they are disjoint, the last look's); se, df, statistic and
      mde are the last look's (mde at threshold w_last x threshold_alpha). See
      :meth:`SequentialDesign.looks_for` for pairs outside [first_seeds, max_seeds].
    - groups: one label per pair naming the reference runs it is compared with (the target;
      pairs on one target share them). Default: pairs with identical correct_ref arrays form
      a group. With ``pooling="target"`` (default) a pair borrows seed variance only from
      its group's pairs; with ``"family"`` from every pair, heterogeneity measured between
      groups (:mod:`benchmark.analysis.stats.pooling`).

    The variance prior is fitted once to every pair's full data and applied at every look.
    Pure; ~70 pairs of 3 x 1000 take a few milliseconds.
    """
    margin = _check_margin(margin)
    threshold_alpha = check_probability_level("threshold_alpha", threshold_alpha)
    confidence = check_probability_level("confidence", confidence)
    if design is not None and not isinstance(design, SequentialDesign):
        raise ValueError(f"design must be a SequentialDesign or None, got {type(design).__name__}")
    diffs = []
    ref_keys: dict[tuple[tuple[int, ...], bytes], int] = {}
    labels: list[int] = []
    for j, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"pairs[{j}] must be a (correct_method, correct_ref) pair of arrays")
        d = paired_differences(pair[0], pair[1])
        if d.shape[1] < 2:
            raise ValueError(f"pairs[{j}] has {d.shape[1]} test example; need >= 2")
        diffs.append(d)
        ref = as_correct_matrix("correct_ref", pair[1])
        labels.append(ref_keys.setdefault((ref.shape, ref.tobytes()), len(ref_keys)))
    if not diffs:
        return []
    if groups is not None:
        if len(groups) != len(diffs):
            raise ValueError(f"groups must hold one label per pair ({len(diffs)}), got {len(groups)}")
        codes: dict[Hashable, int] = {}
        labels = [codes.setdefault(g, len(codes)) for g in groups]
    full = [crossed_mean_squares(d) for d in diffs]
    plans = [
        ([d.shape[0]], [1.0]) if design is None else design.looks_for(d.shape[0]) for d in diffs
    ]
    n_looks = max(len(counts) for counts, _ in plans)
    weights = np.full((len(diffs), n_looks), np.nan)
    grid: list[MeanSquares] = []
    for j, (d, (counts, ws)) in enumerate(zip(diffs, plans, strict=True)):
        weights[j, : len(ws)] = ws
        for k in range(n_looks):
            count = counts[min(k, len(counts) - 1)]
            grid.append(full[j] if count == d.shape[0] else crossed_mean_squares(d[:count]))
    stacked = _stack(grid)
    looks = MeanSquares(
        **{f.name: getattr(stacked, f.name).reshape(len(diffs), n_looks) for f in fields(MeanSquares)}
    )
    if design is None:
        cand, cand_w = None, None
    else:
        cand = np.array(design.looks, dtype=np.float64)
        cand_w = np.array(design.weights, dtype=np.float64)
    res = crossed_family_arrays(
        looks,
        weights,
        _stack(full),
        margin=margin,
        threshold_alpha=threshold_alpha,
        confidence=confidence,
        candidates=cand,
        candidate_weights=cand_w,
        groups=np.asarray(labels),
        pooling=pooling,
    )
    out = []
    for j in range(len(diffs)):
        seeds = res.seeds_to_decide[j]
        out.append(
            PairTest(
                estimate=float(res.estimate[j]),
                se=float(res.se[j]),
                df=float(res.df[j]),
                statistic=float(res.statistic[j]),
                p_value=float(res.p_value[j]),
                ci_low=float(res.ci_low[j]),
                ci_high=float(res.ci_high[j]),
                p_tost=float(res.p_tost[j]),
                mde=float(res.mde[j]),
                seeds_to_decide=None if np.isnan(seeds) else int(seeds),
                n_seeds=int(res.n_seeds[j]),
                n_examples=int(res.n_examples[j]),
                seed_var=float(res.seed_var[j]),
                seed_df=float(res.seed_df[j]),
                prior_var=float(res.prior_var[j]),
                prior_df=float(res.prior_df[j]),
                n_looks=int(res.n_looks[j]),
            )
        )
    return out
