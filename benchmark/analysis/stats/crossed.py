"""Variance-components t test for a transfer gain in the crossed seeds x examples design.

Data (BRIEF section 4): per transfer pair, correct_method and correct_ref shaped (S, N),
paired by seed (row) and test example (column); d(s, i) = method - ref in {-1, 0, 1}; the
gain is theta_hat = mean_{s,i} d(s, i). Shapes below: S seeds, N examples, P pairs of one
family (one method's pairs in one suite), L sequential looks, "..." any leading batch shape.

Model. Seeds and test examples are two crossed random samples (the seeds one could have
trained with, the examples the task could have been tested on). By the ANOVA (Hoeffding)
decomposition of a separately exchangeable array, d(s, i) = theta + a_s + b_i + e_si with
uncorrelated parts of variances sigma2_seed, sigma2_ex, sigma2_int, and

    Var(theta_hat) = sigma2_seed / S + sigma2_ex / N + sigma2_int / (S N).

The two-way ANOVA without replication on d gives (:func:`crossed_mean_squares`)

    MS_seed = N sum_s (dbar_s. - dbar)^2 / (S - 1)                E = sigma2_int + N sigma2_seed
    MS_ex   = S sum_i (dbar_.i - dbar)^2 / (N - 1)                E = sigma2_int + S sigma2_ex
    MS_int  = sum (d - dbar_s. - dbar_.i + dbar)^2 / ((S-1)(N-1))  E = sigma2_int

so (MS_seed + MS_ex - MS_int) / (S N) is unbiased for Var(theta_hat). The test uses

    V = v_seed / S + max(0, MS_ex - MS_int) / (S N),     v_seed = MS_seed / N,

the example component truncated at 0: it is estimated with N - 1 and (S-1)(N-1) degrees of
freedom (>= 190), so the truncation changes V negligibly, and V never drops below the seed
stratum's own estimate. v_seed is the variance of the per-seed gains acc_M(s) - acc_R(s); it
is the only part with few degrees of freedom (S - 1), so it is moderated across the family
(:func:`benchmark.analysis.stats.moderation.fit_seed_prior`): v_j is shrunk towards
s0^2 + MS_int_j / N_j (the common seed variance plus the pair's own churn floor, known
precisely) with prior df d0, giving min(d0 + S_j - 1, D) degrees of freedom, D = sum_j (S_j - 1)
(a prior fitted to the family's pairs cannot carry more information than their pooled df).
The prior is borrowed only when it is worth at least the pair's own seed df (d0 >= S_j - 1);
otherwise the pair keeps its own v_j with S_j - 1 df. A family of 6 targets cannot tell
whether its targets' seed variances are alike; when its bound on d0 is that loose, the
prior's scaled inverse chi-square shape is not to be trusted either: with per-target seed
SDs varying by exp(1.0 Z), moderating anyway rejected 1.2-1.5x too often at alpha / 18, and
in the homogeneous seed-dominated regime it gave 96.5-97% intervals where the unmoderated
t is exact.

Test (:func:`crossed_family_test`). Satterthwaite (1946) degrees of freedom for V as a
linear combination of the moderated v_seed, MS_ex (N - 1 df) and MS_int ((S-1)(N-1) df),
with the seed weight computed from max(moderated v_seed, s0^2 + MS_int / N) rather than
from the estimate alone: plug-in weights give many df exactly when v_seed is small by
chance, i.e. when |t| is large, and the unmoderated test then rejected 1.2-1.4x / 2-2.6x /
3.4-4.3x too often at alpha / alpha/6 / alpha/18 (seed-dominated and balanced regimes,
3 seeds); t = theta_hat / sqrt(V) against Student's t: two-sided p; CI theta_hat +- t_{(1+c)/2, df}
sqrt(V) (the same model as the p-value); TOST p for +-margin (max of the two one-sided p);
minimum detectable effect at 80% power, (t_{1-thr/2, df} + t_{0.80, df}) sqrt(V); the seeds
that would likely decide the pair (projected V(S') = v_seed / S' + example part).

S = 1 (no seed degrees of freedom; the interaction cannot be separated from the example
component): not testable, every statistic is NaN. The alternative, taking the seed variance
from the family prior alone (V = s0^2 + MS_ex / N with d0 df), was simulated and rejected:
it is valid only when every target has the same seed variance; with seed SDs varying
between targets (log-normal factor, SD 0.3 / 1.0) its type-I error at alpha / 18 is 1.4x /
5-6x nominal. Single-seed pairs do not enter the prior fit either.

Calibration by simulation: tests/test_stats_calibration.py, benchmarks/bench_calibration.py.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import scipy.special

from benchmark.analysis.stats import moderation
from benchmark.analysis.stats._validation import (
    FloatArray,
    as_correct_matrix,
    check_probability_level,
    paired_differences,
)
from benchmark.analysis.stats.moderation import fit_seed_prior, posterior_variance
from benchmark.analysis.stats.sequential import SequentialDesign

#: Default equivalence margin (TOST): one accuracy point.
DEFAULT_MARGIN = 0.01

#: Power at which the minimum detectable effect is reported.
MDE_POWER = 0.80

#: Largest seed count considered by ``seeds_to_decide`` without a sequential design.
MAX_SEEDS_TO_DECIDE = 20


# --------------------------------------------------------------------------- mean squares


@dataclass(frozen=True)
class MeanSquares:
    """Two-way ANOVA (no replication) of d = method - ref; float arrays over a shape (...).

    gain: mean d; ms_seed (S - 1 df; NaN when S = 1); ms_example (N - 1 df);
    ms_interaction ((S-1)(N-1) df; NaN when S = 1); n_seeds, n_examples: S and N.
    """

    gain: FloatArray
    ms_seed: FloatArray
    ms_example: FloatArray
    ms_interaction: FloatArray
    n_seeds: FloatArray
    n_examples: FloatArray


def crossed_mean_squares(d: npt.ArrayLike) -> MeanSquares:
    """Mean squares of the crossed design. Shape: d (..., S, N) integer -> fields (...).

    Exact integer row sums, column sums and sum of squares; N >= 2 required.
    """
    arr = np.asarray(d)
    if arr.ndim < 2 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f"d must be an integer array shaped (..., S, N), got {arr.dtype} {arr.shape}")
    n_seeds, n_examples = arr.shape[-2], arr.shape[-1]
    if n_seeds < 1 or n_examples < 2:
        raise ValueError(f"need >= 1 seed and >= 2 test examples, got S={n_seeds}, N={n_examples}")
    row = arr.sum(axis=-1, dtype=np.int64).astype(np.float64)  # (..., S)
    col = arr.sum(axis=-2, dtype=np.int64).astype(np.float64)  # (..., N)
    total = row.sum(axis=-1)
    if arr.dtype == np.bool_ or (arr.min(initial=0) >= -1 and arr.max(initial=0) <= 1):
        squares = np.count_nonzero(arr, axis=(-2, -1)).astype(np.float64)
    else:
        squares = np.square(arr, dtype=np.int64).sum(axis=(-2, -1)).astype(np.float64)
    correction = total**2 / (n_seeds * n_examples)
    ss_seed = np.maximum(np.sum(row**2, axis=-1) / n_examples - correction, 0.0)
    ss_ex = np.maximum(np.sum(col**2, axis=-1) / n_seeds - correction, 0.0)
    ss_int = np.maximum(squares - correction - ss_seed - ss_ex, 0.0)
    if n_seeds >= 2:
        ms_seed = ss_seed / (n_seeds - 1)
        ms_int = ss_int / ((n_seeds - 1) * (n_examples - 1))
    else:
        ms_seed = np.full(total.shape, np.nan)
        ms_int = np.full(total.shape, np.nan)
    return MeanSquares(
        gain=total / (n_seeds * n_examples),
        ms_seed=ms_seed,
        ms_example=ss_ex / (n_examples - 1),
        ms_interaction=ms_int,
        n_seeds=np.full(total.shape, float(n_seeds)),
        n_examples=np.full(total.shape, float(n_examples)),
    )


@dataclass(frozen=True)
class CrossedAnova:
    """Variance components of one pair's gain (unmoderated).

    gain: mean d; ms_*: the mean squares (seed and interaction NaN when S = 1);
    var_seed = max(0, MS_seed - MS_int) / N, var_example = max(0, MS_ex - MS_int) / S,
    var_interaction = MS_int (sigma2 estimates truncated at 0; NaN when S = 1);
    var_gain = (MS_seed + max(0, MS_ex - MS_int)) / (S N), the estimate of Var(gain).
    """

    gain: float
    ms_seed: float
    ms_example: float
    ms_interaction: float
    var_seed: float
    var_example: float
    var_interaction: float
    var_gain: float
    n_seeds: int
    n_examples: int


def crossed_anova(correct_method: npt.ArrayLike, correct_ref: npt.ArrayLike) -> CrossedAnova:
    """Mean squares and variance components of one pair. Shapes: (S, N), (S, N) bool/0-1."""
    d = paired_differences(correct_method, correct_ref)
    ms = crossed_mean_squares(d)
    s, n = d.shape
    ms_seed, ms_ex, ms_int = float(ms.ms_seed), float(ms.ms_example), float(ms.ms_interaction)
    multi = s > 1
    return CrossedAnova(
        gain=float(ms.gain),
        ms_seed=ms_seed,
        ms_example=ms_ex,
        ms_interaction=ms_int,
        var_seed=max(0.0, ms_seed - ms_int) / n if multi else math.nan,
        var_example=max(0.0, ms_ex - ms_int) / s if multi else math.nan,
        var_interaction=ms_int,
        var_gain=(ms_seed + max(0.0, ms_ex - ms_int)) / (s * n) if multi else math.nan,
        n_seeds=s,
        n_examples=n,
    )


# --------------------------------------------------------------------------- the t test


@dataclass(frozen=True)
class CrossedTestArrays:
    """Vectorised per-pair results; fields as in :class:`PairTest`, plus the pieces of V.

    seed_term: the seed part of V; example_term / example_den: the example part of V and
    its Satterthwaite denominator (used to project V to more seeds).
    """

    estimate: FloatArray
    se: FloatArray
    df: FloatArray
    statistic: FloatArray
    p_value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_tost: FloatArray
    mde: FloatArray
    seed_var: FloatArray
    seed_df: FloatArray
    example_term: FloatArray
    example_den: FloatArray


def _t_sf(df: FloatArray, x: FloatArray) -> FloatArray:
    """P(T_df > x), elementwise (df may be inf)."""
    out: FloatArray = scipy.special.stdtr(df, -x)
    return out


def _t_quantile(df: FloatArray, q: float | FloatArray) -> FloatArray:
    out: FloatArray = scipy.special.stdtrit(df, q)
    return out


def crossed_t_test(
    ms: MeanSquares,
    seed_var: npt.ArrayLike,
    seed_df: npt.ArrayLike,
    *,
    margin: float = DEFAULT_MARGIN,
    threshold_alpha: float = 0.05,
    confidence: float = 0.95,
    look_weight: npt.ArrayLike = 1.0,
    weight_var: npt.ArrayLike | None = None,
) -> CrossedTestArrays:
    """Per-pair t test from the mean squares and a (moderated) per-seed gain variance.

    Shapes: the fields of ``ms``, seed_var, seed_df and look_weight broadcast to (...).
    seed_var: v_seed (MS_seed / N, or its moderated value) with seed_df degrees of freedom
    (> 0, may be inf; 0 or NaN seed_var = not testable: NaN results). look_weight w: the
    interval has level 1 - w (1 - confidence) and the MDE threshold is w x threshold_alpha
    (a sequential look spends w of the error rate); p-values are not scaled. weight_var
    (default seed_var): the seed variance used in the Satterthwaite weights only
    (:func:`crossed_family_arrays` passes max(moderated v_seed, prior scale), see the module
    docstring).

    V = seed_var / S + max(0, MS_ex - MS_int) / (S N) (S >= 2), seed_var + MS_ex / N
    (S = 1); Satterthwaite df; outputs as in the module docstring. A zero V gives p = 1
    when the gain is 0, else p = 0 (every seed and example agree).
    """
    confidence = check_probability_level("confidence", confidence)
    threshold_alpha = check_probability_level("threshold_alpha", threshold_alpha)
    s = ms.n_seeds
    n = ms.n_examples
    v = np.asarray(seed_var, dtype=np.float64)
    vdf = np.asarray(seed_df, dtype=np.float64)
    w = np.asarray(look_weight, dtype=np.float64)
    gain = np.asarray(ms.gain, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        multi = s >= 2
        ms_int = np.where(multi, ms.ms_interaction, 0.0)
        ex_excess = np.maximum(ms.ms_example - ms_int, 0.0)
        ex_term = np.where(multi, ex_excess / (s * n), ms.ms_example / n)
        ex_den = np.where(
            multi,
            np.where(
                ex_excess > 0,
                (ms.ms_example / (s * n)) ** 2 / (n - 1)
                + (ms_int / (s * n)) ** 2 / ((s - 1) * (n - 1)),
                0.0,
            ),
            (ms.ms_example / n) ** 2 / (n - 1),
        )
        seed_term = np.where(multi, v / s, v)
        var = seed_term + ex_term
        wv = v if weight_var is None else np.asarray(weight_var, dtype=np.float64)
        w_seed = np.where(multi, wv / s, wv)
        w_var = w_seed + ex_term
        den = np.where(np.isinf(vdf), 0.0, w_seed**2 / vdf) + ex_den
        df = np.where(den > 0, w_var**2 / den, np.where(np.isinf(vdf), np.inf, vdf))
        se = np.sqrt(var)
        zero = se == 0
        se_safe = np.where(zero, 1.0, se)
        stat = np.where(zero, np.where(gain == 0, 0.0, np.sign(gain) * np.inf), gain / se_safe)
        p = np.minimum(1.0, 2.0 * _t_sf(df, np.abs(stat)))
        level = 1.0 - w * (1.0 - confidence)
        half = _t_quantile(df, (1.0 + level) / 2.0) * se
        p_tost = np.where(
            zero,
            np.where(np.abs(gain) < margin, 0.0, 1.0),
            np.maximum(_t_sf(df, (gain + margin) / se_safe), _t_sf(df, (margin - gain) / se_safe)),
        )
        mde = (_t_quantile(df, 1.0 - w * threshold_alpha / 2.0) + _t_quantile(df, MDE_POWER)) * se
    bad = ~(vdf > 0) | np.isnan(v) | np.isnan(var)
    shape = np.broadcast_shapes(gain.shape, var.shape, bad.shape)

    def clean(a: npt.ArrayLike) -> FloatArray:
        out: FloatArray = np.where(bad, np.nan, np.broadcast_to(np.asarray(a, np.float64), shape))
        return out

    return CrossedTestArrays(
        estimate=np.broadcast_to(gain, shape).astype(np.float64),
        se=clean(se),
        df=clean(df),
        statistic=clean(stat),
        p_value=clean(p),
        ci_low=clean(gain - half),
        ci_high=clean(gain + half),
        p_tost=clean(p_tost),
        mde=clean(mde),
        seed_var=clean(v),
        seed_df=clean(vdf),
        example_term=clean(ex_term),
        example_den=clean(ex_den),
    )


# --------------------------------------------------------------------------- family


@dataclass(frozen=True)
class FamilyArrays:
    """Vectorised family results, fields shaped (..., P) (prior_* shaped (...,)).

    Fields as in :class:`PairTest`; seeds_to_decide is a float array (NaN = none, the
    current n_seeds when already decided).
    """

    estimate: FloatArray
    se: FloatArray
    df: FloatArray
    statistic: FloatArray
    p_value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_tost: FloatArray
    mde: FloatArray
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
    threshold_alpha: float = 0.05,
    confidence: float = 0.95,
    candidates: npt.ArrayLike | None = None,
    candidate_weights: npt.ArrayLike | None = None,
    groups: npt.ArrayLike | None = None,
    prior_z: float | None = None,
) -> FamilyArrays:
    """Vectorised core of :func:`crossed_family_test` (for simulations of many families).

    Shapes: ``looks`` fields (..., P, L): the mean squares of each pair's first k seeds at
    each look (padding allowed); weights (..., P, L): the looks' weights, NaN where a look
    was not taken (the taken looks come first; the last taken look is the current data);
    ``family`` fields (..., P): each pair's current data, to fit the prior;
    candidates (C,) seed counts for seeds_to_decide (default 1..20) with candidate_weights
    (C,) (default 1); groups (P,): labels of the pairs sharing reference runs (default: all
    distinct); prior_z: see :func:`benchmark.analysis.stats.moderation.fit_seed_prior`
    (default ``moderation.ROBUST_Z``). Returns :class:`FamilyArrays` over (..., P).
    """
    margin = _check_margin(margin)
    threshold_alpha = check_probability_level("threshold_alpha", threshold_alpha)
    confidence = check_probability_level("confidence", confidence)
    z = moderation.ROBUST_Z if prior_z is None else float(prior_z)
    w = np.asarray(weights, dtype=np.float64)
    taken = ~np.isnan(w)
    if not np.all(taken[..., 0]):
        raise ValueError("every pair needs its first look (weights[..., 0] must be set)")

    # Prior from the family's current data.
    fam_v = family.ms_seed / family.n_examples
    fam_d = family.n_seeds - 1.0
    prior = fit_seed_prior(fam_v, fam_d, _offset(family), groups=groups, z=z)
    pooled = np.where(np.isfinite(fam_v) & (fam_d > 0), fam_d, 0.0).sum(axis=-1)  # (...,)

    # Moderated seed variance at every look.
    look_d = looks.n_seeds - 1.0  # (..., P, L)
    look_v = looks.ms_seed / looks.n_examples
    scale = prior.scale[..., None, None] + _offset(looks)
    # Borrow only a prior worth at least the pair's own seed df (module docstring).
    d0 = np.where(prior.df[..., None, None] >= look_d, prior.df[..., None, None], 0.0)
    post, post_df = posterior_variance(look_v, look_d, scale, d0)
    cap = pooled[..., None, None] + np.maximum(look_d - fam_d[..., None], 0.0)
    post_df = np.where(post_df > 0, np.minimum(post_df, np.maximum(cap, look_d)), 0.0)
    post_df = np.where(look_d > 0, post_df, 0.0)  # one seed: not testable (module docstring)
    # Satterthwaite weights from the larger of the pair's moderated variance and its prior
    # scale: a seed variance that is small by chance must not also buy extra df.
    weight_var = np.fmax(post, np.broadcast_to(scale, post.shape))
    tests = crossed_t_test(
        looks,
        post,
        post_df,
        weight_var=weight_var,
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
    seed_var = at_last(tests.seed_var)[..., None]
    s_now = family.n_seeds[..., None]
    v_proj = seed_var / cand + at_last(tests.example_term)[..., None]
    d0_proj = np.where(prior.df[..., None, None] >= cand - 1.0, prior.df[..., None, None], 0.0)
    df_seed = np.minimum(d0_proj + cand - 1.0, pooled[..., None, None] + cand - s_now)
    df_seed = np.maximum(df_seed, cand - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.where(np.isinf(df_seed), 0.0, (seed_var / cand) ** 2 / df_seed)
        den = den + at_last(tests.example_den)[..., None]
        df_proj = np.where(den > 0, v_proj**2 / den, np.inf)
        se_proj = np.sqrt(v_proj)
        g = np.abs(family.gain)[..., None]
        sig = g / se_proj > _t_quantile(df_proj, 1.0 - cand_w * threshold_alpha / 2.0)
        equiv = (margin - g) / se_proj > _t_quantile(df_proj, 1.0 - cand_w * threshold_alpha)
    hit = (sig | equiv) & (cand > s_now) & np.isfinite(v_proj)
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
        prior_var=prior.scale,
        prior_df=prior.df,
        n_looks=n_taken.astype(np.float64),
    )


@dataclass(frozen=True)
class PairTest:
    """Moderated crossed t test of one transfer pair (gains in accuracy units: 0.01 = 1 point).

    - estimate: the gain, mean of d over all seeds and examples;
    - se: sqrt(V); df: Satterthwaite degrees of freedom; statistic: estimate / se;
    - p_value: two-sided p (the sequential p-value under a design);
    - ci_low, ci_high: interval from the same t model (a confidence sequence under a design);
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
    threshold_alpha: float = 0.05,
    confidence: float = 0.95,
    design: SequentialDesign | None = None,
    groups: Sequence[Hashable] | None = None,
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
      a group. The prior's heterogeneity is measured between groups (module docstring of
      :mod:`benchmark.analysis.stats.moderation`).

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
                prior_var=float(res.prior_var),
                prior_df=float(res.prior_df),
                n_looks=int(res.n_looks[j]),
            )
        )
    return out
