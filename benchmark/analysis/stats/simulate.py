"""Simulated paired correctness for the crossed seeds x examples design.

Used by the calibration tests (``tests/test_stats_calibration.py``) and the calibration
benchmark (``benchmarks/bench_calibration.py``); a pure function of an explicit
``numpy.random.Generator``.

Logit model. For a target with test examples i = 1..N and seeds s = 1..S, model m (the
reference ``target_only`` R, or a method M_k) is correct on example i with seed s when

    eta(m, s, i) = a_m + delta_i + gamma(m, i) + u(m, s) + c(m, s, i) + L(m, s, i) > 0,

- a_m: the model's location (sets its expected accuracy; a true gain is a shift of the
  method's location, calibrated so that E[acc_M] - E[acc_R] equals the requested gain);
- delta_i ~ N(0, difficulty_sd^2): example difficulty, shared by every model on the target;
- gamma(m, i) ~ N(0, example_sd^2): the model's own persistent effect on example i, the same
  for every seed (the *example* component of d = correct_M - correct_R);
- u(m, s) ~ N(0, (seed_sd * factor)^2): one shift per (seed, model), common to all examples
  (the *seed* component: per-seed accuracy moves up or down as a whole);
- c(m, s, i) ~ N(0, churn_sd^2) and L(m, s, i) standard logistic, independent per cell: the
  seed-to-seed churn on one example (the *interaction* component). The logistic draw alone
  already churns examples of middling difficulty; ``difficulty_sd`` sets how many examples
  are that close to the boundary.

Every term is independent. The sum of the normal terms is N(a_m, sigma^2) with
sigma^2 = difficulty_sd^2 + example_sd^2 + (seed_sd * factor)^2 + churn_sd^2, so
E[acc_m] = E[sigmoid(a_m + sigma Z)], Z ~ N(0, 1), computed by Gauss-Hermite quadrature
(:func:`expected_accuracy`), and the locations solve that equation exactly
(:func:`logit_location`, to ~1e-12): the true gain of a simulated pair *is* the requested
``gain``, the value to use for coverage (cells are drawn in float32, which moves it by
< 1e-6).

Regimes (:data:`REGIMES`). Shares of Var(gain) (seed / example / interaction) at 3 seeds,
N = 1000, accuracy 0.8, SD of the gain, and the share of examples two reference seeds
disagree on (Monte Carlo, 1000 pairs):

- ``"seed-dominated"``: 0.69 / 0.01 / 0.30, SD 0.87 points; the per-seed gain
  acc_M(s) - acc_R(s) has SD 1.5 points (the committed default suite); 7% disagreement.
- ``"balanced"``: 0.34 / 0.30 / 0.36, SD 1.18 points; per-seed gain SD 1.7 points; 15%.
- ``"churn-dominated"``: 0 / 0.01 / 0.99, SD 0.96 points (no seed effect: the per-seed gain
  SD of 1.7 points is all churn); 29%.

Families (:func:`simulate_families`) add between-target heterogeneity (accuracy levels,
a log-normal factor on the seed SD, N per target) and shared reference runs;
:func:`family_tests` and :func:`run_until_decided` run the crossed family test (fixed or
sequential) on them, vectorised over the families.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import (
    FloatArray,
    check_choice,
    check_count,
    check_rng,
)
from benchmark.analysis.stats.crossed import MeanSquares, crossed_mean_squares
from benchmark.analysis.stats.family import FamilyArrays, crossed_family_arrays
from benchmark.analysis.stats.multiple import adjust_pvalues
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import DEFAULT_ALPHA, DEFAULT_CORRECTION, DEFAULT_MARGIN

#: Gauss-Hermite (probabilists') nodes and weights for E[f(Z)], Z ~ N(0, 1).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(96)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()

#: Newton steps in :func:`logit_location` (quadratic convergence; 40 is far more than needed).
_NEWTON_STEPS = 40

#: Cells (per model) generated at once by :func:`crossed_correctness` per block of targets.
_BLOCK_CELLS = 2_000_000


@dataclass(frozen=True)
class CrossedRegime:
    """Standard deviations (logit scale) of the terms of the simulation model (module doc)."""

    name: str
    difficulty_sd: float
    example_sd: float
    seed_sd: float
    churn_sd: float


#: The three named variance regimes of the calibration tests and benchmark.
REGIMES: dict[str, CrossedRegime] = {
    "seed-dominated": CrossedRegime("seed-dominated", 8.0, 0.25, 0.26, 0.0),
    "balanced": CrossedRegime("balanced", 3.0, 1.4, 0.11, 0.2),
    "churn-dominated": CrossedRegime("churn-dominated", 1.0, 0.2, 0.0, 1.0),
}


def _sigmoid(x: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def expected_accuracy(location: npt.ArrayLike, total_sd: npt.ArrayLike) -> FloatArray:
    """E[sigmoid(location + total_sd * Z)], Z ~ N(0, 1), by 96-node Gauss-Hermite quadrature.

    Shapes: location and total_sd broadcast together -> that shape (float64).
    """
    loc = np.asarray(location, dtype=np.float64)[..., None]
    sd = np.asarray(total_sd, dtype=np.float64)[..., None]
    out: FloatArray = np.sum(_sigmoid(loc + sd * _GH_NODES) * _GH_WEIGHTS, axis=-1)
    return out


def logit_location(accuracy: npt.ArrayLike, total_sd: npt.ArrayLike) -> FloatArray:
    """Location a with E[sigmoid(a + total_sd * Z)] = accuracy (inverse of expected_accuracy).

    Shapes: accuracy (values in (0, 1)) and total_sd (>= 0) broadcast -> that shape.
    Newton's method from the probit approximation a0 = logit(acc) sqrt(1 + pi sd^2 / 8).
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    sd = np.asarray(total_sd, dtype=np.float64)
    if np.any(~((acc > 0) & (acc < 1))):
        raise ValueError("accuracy (plus gain) must lie strictly between 0 and 1")
    if np.any(~(sd >= 0)):
        raise ValueError("total_sd must be >= 0")
    acc, sd = np.broadcast_arrays(acc, sd)
    loc = np.log(acc / (1 - acc)) * np.sqrt(1 + np.pi * sd**2 / 8)
    for _ in range(_NEWTON_STEPS):
        p = _sigmoid(loc[..., None] + sd[..., None] * _GH_NODES)
        value = np.sum(p * _GH_WEIGHTS, axis=-1) - acc
        slope = np.sum(p * (1 - p) * _GH_WEIGHTS, axis=-1)
        loc = loc - value / np.maximum(slope, 1e-300)
    out: FloatArray = np.asarray(loc, dtype=np.float64)
    return out


def _regime(regime: str | CrossedRegime) -> CrossedRegime:
    if isinstance(regime, CrossedRegime):
        return regime
    return REGIMES[check_choice("regime", regime, tuple(REGIMES))]


def crossed_correctness(
    rng: np.random.Generator,
    n_seeds: int,
    n_examples: int,
    *,
    regime: str | CrossedRegime = "balanced",
    accuracy: npt.ArrayLike = 0.8,
    gain: npt.ArrayLike = 0.0,
    n_methods: int | None = None,
    seed_sd_factor: npt.ArrayLike = 1.0,
    size: tuple[int, ...] = (),
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Simulate paired per-example correctness of methods and their shared reference.

    Returns (correct_method, correct_ref), bool:

    - ``n_methods=None`` (one pair per target): correct_method (*size, S, N),
      correct_ref (*size, S, N).
    - ``n_methods=K``: K methods (e.g. K sources) on each target share one set of reference
      runs: correct_method (*size, K, S, N), correct_ref (*size, S, N).

    Each element of ``size`` is an independent target (its own examples, difficulties and
    reference runs). ``accuracy`` (the reference's expected accuracy) and ``seed_sd_factor``
    (multiplies ``regime.seed_sd`` for the reference and the methods of that target: seed
    variances that differ between targets) broadcast to ``size``; ``gain`` (true expected
    accuracy difference method - reference) broadcasts to ``size`` or (*size, K). The model
    and the regimes are in the module docstring. Cost: two random draws per cell.
    """
    rng = check_rng(rng)
    n_seeds = check_count("n_seeds", n_seeds)
    n_examples = check_count("n_examples", n_examples)
    reg = _regime(regime)
    size = tuple(check_count("size entries", int(s), 0) for s in size)
    k = 1 if n_methods is None else check_count("n_methods", n_methods)
    acc = np.broadcast_to(np.asarray(accuracy, dtype=np.float64), size)
    factor = np.broadcast_to(np.asarray(seed_sd_factor, dtype=np.float64), size)
    g = np.asarray(gain, dtype=np.float64)
    gains = np.broadcast_to(g[..., None] if n_methods is None else g, (*size, k))
    if np.any(~(factor >= 0)):
        raise ValueError("seed_sd_factor must be >= 0")
    seed_sd = reg.seed_sd * factor  # size
    total_sd = np.sqrt(reg.difficulty_sd**2 + reg.example_sd**2 + reg.churn_sd**2 + seed_sd**2)
    loc_ref = logit_location(acc, total_sd)  # size
    loc_method = logit_location(acc[..., None] + gains, total_sd[..., None])  # (*size, K)

    n_targets = int(np.prod(size, dtype=np.int64))
    flat = (n_targets,)
    loc_ref_f, seed_sd_f = loc_ref.reshape(flat), seed_sd.reshape(flat)
    loc_method_f = loc_method.reshape(n_targets, k)
    method = np.empty((n_targets, k, n_seeds, n_examples), dtype=np.bool_)
    ref = np.empty((n_targets, n_seeds, n_examples), dtype=np.bool_)
    block = max(1, _BLOCK_CELLS // (k * n_seeds * n_examples))
    for start in range(0, n_targets, block):
        stop = min(n_targets, start + block)
        b = stop - start
        # delta_i (b, 1, 1, N) shared; model index 0 is the reference, 1..K the methods.
        base = reg.difficulty_sd * rng.standard_normal((b, 1, 1, n_examples), dtype=np.float32)
        loc = np.concatenate([loc_ref_f[start:stop, None], loc_method_f[start:stop]], axis=1)
        base = base + loc[:, :, None, None].astype(np.float32)  # (b, K+1, 1, N)
        base = base + reg.example_sd * rng.standard_normal((b, k + 1, 1, n_examples), np.float32)
        seed_shift = rng.standard_normal((b, k + 1, n_seeds, 1), dtype=np.float32)
        eta = base + seed_shift * seed_sd_f[start:stop, None, None, None].astype(np.float32)
        if reg.churn_sd > 0:
            eta = eta + reg.churn_sd * rng.standard_normal(eta.shape, dtype=np.float32)
        else:
            eta = np.broadcast_to(eta, (b, k + 1, n_seeds, n_examples))
        # L standard logistic: correct iff U < sigmoid(eta), U ~ U(0, 1).
        correct = rng.random((b, k + 1, n_seeds, n_examples), dtype=np.float32) < _sigmoid(eta)
        ref[start:stop] = correct[:, 0]
        method[start:stop] = correct[:, 1:]
    method_out = method.reshape(*size, k, n_seeds, n_examples)
    ref_out = ref.reshape(*size, n_seeds, n_examples)
    if n_methods is None:
        method_out = method_out[..., 0, :, :]
    return method_out, ref_out


# --------------------------------------------------------------------------- families


@dataclass(frozen=True)
class FamilySample:
    """Simulated families of transfer pairs, summarised by their mean squares.

    prefix: :class:`~benchmark.analysis.stats.crossed.MeanSquares` with fields shaped
    (R, P, S): for each of R families and P = n_targets x n_sources pairs, the mean squares
    of the pair's first k seeds, k = 1..S (k = 1 has NaN seed / interaction squares);
    groups (P,): target index of each pair (pairs on one target share reference runs);
    true_gain (R, P): the expected accuracy difference of each pair (the simulated truth).
    """

    prefix: MeanSquares
    groups: npt.NDArray[np.int64]
    true_gain: FloatArray

    def at(self, n_seeds: npt.ArrayLike) -> MeanSquares:
        """Mean squares of each pair's first n_seeds seeds; n_seeds int or (R, P) ints."""
        k = np.broadcast_to(np.asarray(n_seeds, dtype=np.int64), self.true_gain.shape)
        idx = (k - 1)[..., None]
        fields = MeanSquares.__dataclass_fields__
        return MeanSquares(**{f: np.take_along_axis(getattr(self.prefix, f), idx, -1)[..., 0] for f in fields})


def prefix_mean_squares(d: npt.ArrayLike) -> MeanSquares:
    """Mean squares of the first k seeds for every k. Shape: d (..., S, N) -> fields (..., S)."""
    arr = np.asarray(d)
    parts = [crossed_mean_squares(arr[..., :k, :]) for k in range(1, arr.shape[-2] + 1)]
    return MeanSquares(**{f: np.stack([getattr(p, f) for p in parts], -1) for f in MeanSquares.__dataclass_fields__})


def simulate_families(
    rng: np.random.Generator,
    *,
    n_families: int,
    regime: str | CrossedRegime = "balanced",
    n_targets: int = 6,
    n_sources: int = 2,
    n_seeds: int = 3,
    n_examples: int | tuple[int, ...] = 1000,
    gain: npt.ArrayLike = 0.0,
    seed_sd_spread: float = 0.3,
    accuracy_range: tuple[float, float] = (0.7, 0.9),
    seed_sd_factors: npt.ArrayLike = 1.0,
) -> FamilySample:
    """Simulate R = n_families families of n_targets x n_sources pairs (one method).

    Each family: per target, a reference accuracy ~ U(accuracy_range) and a seed-SD factor
    exp(seed_sd_spread x N(0, 1)) (seed variances differ between targets), one set of
    reference runs shared by the target's n_sources pairs (:func:`crossed_correctness`);
    ``n_examples`` per target (an int, or one value per target, cycled); ``gain`` the true
    gain of every pair (broadcast to (n_targets, n_sources)). Pairs are ordered target-major
    (pair t * n_sources + k). ``seed_sd_factors`` (broadcast to (n_targets,)): fixed per-target
    factors multiplying the random ones (targets that differ systematically). Memory: about 3
    bytes per cell, processed per target.
    """
    rng = check_rng(rng)
    n_families = check_count("n_families", n_families)
    n_targets = check_count("n_targets", n_targets)
    n_sources = check_count("n_sources", n_sources)
    sizes = (n_examples,) if isinstance(n_examples, int | np.integer) else tuple(n_examples)
    gains = np.broadcast_to(np.asarray(gain, dtype=np.float64), (n_targets, n_sources))
    low, high = accuracy_range
    acc = rng.uniform(low, high, size=(n_families, n_targets))
    factor = np.exp(seed_sd_spread * rng.standard_normal((n_families, n_targets)))
    factor = factor * np.broadcast_to(np.asarray(seed_sd_factors, dtype=np.float64), (n_targets,))
    per_target = []
    for t in range(n_targets):
        method, ref = crossed_correctness(
            rng,
            n_seeds,
            int(sizes[t % len(sizes)]),
            regime=regime,
            accuracy=acc[:, t],
            gain=gains[t],
            n_methods=n_sources,
            seed_sd_factor=factor[:, t],
            size=(n_families,),
        )
        d = method.astype(np.int8) - ref[:, None].astype(np.int8)  # (R, K, S, N)
        per_target.append(prefix_mean_squares(d))  # fields (R, K, S)
    fields = MeanSquares.__dataclass_fields__
    prefix = MeanSquares(**{f: np.concatenate([getattr(p, f) for p in per_target], axis=1) for f in fields})
    groups = np.repeat(np.arange(n_targets, dtype=np.int64), n_sources)
    true_gain = np.broadcast_to(gains.reshape(-1), (n_families, n_targets * n_sources)).copy()
    return FamilySample(prefix=prefix, groups=groups, true_gain=true_gain)


def _looks_for_counts(
    sample: FamilySample, counts: npt.NDArray[np.int64], design: SequentialDesign | None
) -> tuple[MeanSquares, FloatArray, FloatArray | None, FloatArray | None]:
    """Look mean squares (R, P, L), weights (R, P, L) and candidates for given seed counts."""
    if design is None:
        looks = sample.at(counts)
        looks = MeanSquares(**{f: getattr(looks, f)[..., None] for f in MeanSquares.__dataclass_fields__})
        return looks, np.ones((*counts.shape, 1)), None, None
    ks = np.array(design.looks, dtype=np.int64)  # (L,)
    kk = np.minimum(ks, counts[..., None])  # (R, P, L): padded looks repeat the last one
    kk = np.maximum(kk, np.minimum(counts[..., None], design.first_seeds))
    idx = kk - 1
    fields = MeanSquares.__dataclass_fields__
    looks = MeanSquares(**{f: np.take_along_axis(getattr(sample.prefix, f), idx, axis=-1) for f in fields})
    w = np.where(ks <= np.maximum(counts[..., None], design.first_seeds), design.weights, np.nan)
    cand = np.array(design.looks, dtype=np.float64)
    return looks, w, cand, np.array(design.weights, dtype=np.float64)


def family_tests(
    sample: FamilySample,
    n_seeds: npt.ArrayLike,
    *,
    design: SequentialDesign | None = None,
    **options: float | str,
) -> FamilyArrays:
    """:func:`~benchmark.analysis.stats.crossed.crossed_family_arrays` on simulated families.

    n_seeds: int or (R, P) seed counts (each pair uses its first n_seeds seeds; with a
    design, the looks first_seeds..n_seeds). ``options``: margin, threshold_alpha,
    confidence, prior_z, pooling. Shapes: fields (R, P).
    """
    counts = np.broadcast_to(np.asarray(n_seeds, dtype=np.int64), sample.true_gain.shape)
    looks, w, cand, cand_w = _looks_for_counts(sample, counts, design)
    return crossed_family_arrays(
        looks,
        w,
        sample.at(counts),
        candidates=cand,
        candidate_weights=cand_w,
        groups=sample.groups,
        **options,  # type: ignore[arg-type]
    )


def run_until_decided(
    sample: FamilySample,
    design: SequentialDesign,
    *,
    alpha: float = DEFAULT_ALPHA,
    correction: str = DEFAULT_CORRECTION,
    margin: float = DEFAULT_MARGIN,
    futility: bool = False,
) -> tuple[FamilyArrays, npt.NDArray[np.int64]]:
    """Simulate ``run --until-decided``: add one seed at a time to undecided pairs.

    A pair is decided when its family-adjusted sequential p-value (``correction`` over the
    family's pairs, by :func:`~benchmark.analysis.stats.multiple.adjust_pvalues` as for the
    verdicts) or adjusted TOST p-value is below alpha; undecided pairs get one more
    seed until design.max_seeds (at most the simulated S). With ``futility``, a pair also
    stops once no seed count up to design.max_seeds is projected to decide it (its
    ``seeds_to_decide`` is NaN), as ``run --until-decided`` does. Returns the final
    :class:`FamilyArrays` (R, P) and the seeds each pair used (R, P).
    """
    top = min(design.max_seeds, sample.prefix.gain.shape[-1])
    counts = np.full(sample.true_gain.shape, design.first_seeds, dtype=np.int64)
    while True:
        res = family_tests(sample, counts, design=design, margin=margin, threshold_alpha=alpha)
        # The verdicts' adjustment: each family (row) adjusted, untestable (NaN) pairs left out.
        p_adj = adjust_pvalues(res.p_value, correction, axis=-1)
        t_adj = adjust_pvalues(res.p_tost, correction, axis=-1)
        open_ = ~((p_adj < alpha) | (t_adj < alpha)) & (counts < top)
        if futility:
            open_ &= ~np.isnan(res.seeds_to_decide)
        if not open_.any():
            return res, counts
        counts = counts + open_
