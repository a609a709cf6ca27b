"""Variance-components t test for a transfer gain in the crossed seeds x examples design.

Data: per transfer pair, correct_method and correct_ref shaped (S, N),
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
is the only part with few degrees of freedom (S - 1), so it is moderated
(:func:`benchmark.analysis.stats.moderation.fit_seed_prior`) among the family's pairs on the
pair's target only (:mod:`benchmark.analysis.stats.pooling`; pooling across targets made the noisiest
target's pairs reject up to 1.8x alpha, issue 23): v_j is shrunk towards
s0^2 + MS_int_j / N_j (the common seed variance plus the pair's own churn floor, known
precisely) with prior df d0, giving min(d0 + S_j - 1, D) degrees of freedom, D = sum_j (S_j - 1)
(a prior fitted to the target's pairs cannot carry more information than their pooled df,
discounted for their shared reference runs).
The prior is borrowed only when it is worth at least the pair's own seed df (d0 >= S_j - 1);
otherwise the pair keeps its own v_j with S_j - 1 df. A family of 6 targets cannot tell
whether its targets' seed variances are alike; when its bound on d0 is that loose, the
prior's scaled inverse chi-square shape is not to be trusted either: with per-target seed
SDs varying by exp(1.0 Z), moderating anyway rejected 1.2-1.5x too often at alpha / 18, and
in the homogeneous seed-dominated regime it gave 96.5-97% intervals where the unmoderated
t is exact.

Test (:func:`crossed_t_test`; a whole family: :func:`~.family.crossed_family_test`).
V = u + b, u = moderated v_seed / S with few df, b the example part (N - 1 and (S-1)(N-1) df,
taken as known). Satterthwaite's t with plug-in df is not valid in the tails here: a small u
buys df exactly when |t| is large, and at 2-4 seed df it rejected 1.2-1.6x alpha and 3-13x
alpha / 36 when the seed part is 1-30x the example part (benchmarks/bench_critical.py). The
test therefore uses the calibrated critical values of :mod:`.critical`:
k_a = sqrt(z_a^2 b + t_a(df / w^gamma)^2 u), gamma tabulated per (df, a) so that the worst
null rate over the ratio u / b is at most 1.05 a; two-sided p = the smallest a with
|theta_hat| > k_a; CI theta_hat +- k at the interval's level (the same rule as the
p-value); TOST p from the two one-sided tests (k at twice their level); minimum detectable
effect at 80% power k_thr + t_{0.80, df} sqrt(V) (df = V^2 / (u^2 / seed df), Satterthwaite's
with the example part known, also reported); the
seeds that would likely decide the pair (projected u(S') = v_seed / S').

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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.special

from benchmark.analysis.stats._validation import (
    FloatArray,
    check_probability_level,
    paired_differences,
)
from benchmark.analysis.stats.critical import critical_value, two_sided_p
from benchmark.analysis.stats.settings import DEFAULT_ALPHA, DEFAULT_MARGIN

#: Power at which the minimum detectable effect is reported.
MDE_POWER = 0.80


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
    seed_term, ex_term, _ = variance_terms(ms, ms.ms_seed / ms.n_examples)
    return CrossedAnova(
        gain=float(ms.gain),
        ms_seed=ms_seed,
        ms_example=ms_ex,
        ms_interaction=ms_int,
        var_seed=max(0.0, ms_seed - ms_int) / n if multi else math.nan,
        var_example=max(0.0, ms_ex - ms_int) / s if multi else math.nan,
        var_interaction=ms_int,
        var_gain=float(seed_term + ex_term) if multi else math.nan,
        n_seeds=s,
        n_examples=n,
    )


# --------------------------------------------------------------------------- the t test


@dataclass(frozen=True)
class GainTestArrays:
    """The test of a gain, vectorised over pairs: the fields every crossed t result shares
    (meanings as in :class:`~benchmark.analysis.stats.family.PairTest`), float arrays (...)."""

    estimate: FloatArray
    se: FloatArray
    df: FloatArray
    statistic: FloatArray
    p_value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_tost: FloatArray
    mde: FloatArray


@dataclass(frozen=True)
class CrossedTestArrays(GainTestArrays):
    """Vectorised per-pair results of :func:`crossed_t_test`, plus the pieces of V.

    seed_var, seed_df: the seed variance used and its df; example_term: the example part of V
    (used to project V to more seeds).
    """

    seed_var: FloatArray
    seed_df: FloatArray
    example_term: FloatArray


def t_quantile(df: FloatArray, q: float | FloatArray) -> FloatArray:
    """q-quantile of Student's t with df degrees of freedom, elementwise (df may be inf)."""
    out: FloatArray = scipy.special.stdtrit(df, q)
    return out


def variance_terms(ms: MeanSquares, seed_var: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The parts of V = Var(gain estimate) and the example part's Satterthwaite denominator.

    Shapes: the fields of ``ms`` and seed_var broadcast to (...) -> three (...) arrays:

    - seed_term: seed_var / S (S >= 2), seed_var (S = 1);
    - example_term: max(0, MS_ex - MS_int) / (S N) (S >= 2), MS_ex / N (S = 1);
    - example_den: sum of (term^2 / df) over the example part's mean squares,
      (MS_ex / (S N))^2 / (N - 1) + (MS_int / (S N))^2 / ((S-1)(N-1)) when MS_ex > MS_int
      (0 when truncated), (MS_ex / N)^2 / (N - 1) when S = 1.

    V = seed_term + example_term. seed_var is v_seed = MS_seed / N (its own estimate, with
    S - 1 df) or a moderated value; the seed part's Satterthwaite term is
    seed_term^2 / seed df. The one definition of the crossed variance, used by the verdict
    test (:func:`crossed_t_test`) and the descriptive intervals
    (:func:`benchmark.analysis.stats.pooled.crossed_mean_interval`).
    """
    s = ms.n_seeds
    n = ms.n_examples
    v = np.asarray(seed_var, dtype=np.float64)
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
    return seed_term, ex_term, ex_den


def crossed_t_test(
    ms: MeanSquares,
    seed_var: npt.ArrayLike,
    seed_df: npt.ArrayLike,
    *,
    margin: float = DEFAULT_MARGIN,
    threshold_alpha: float = DEFAULT_ALPHA,
    confidence: float = 0.95,
    look_weight: npt.ArrayLike = 1.0,
) -> CrossedTestArrays:
    """Per-pair t test from the mean squares and a (moderated) per-seed gain variance.

    Shapes: the fields of ``ms``, seed_var, seed_df and look_weight broadcast to (...).
    seed_var: v_seed (MS_seed / N, or its moderated value) with seed_df degrees of freedom
    (> 0, may be inf; 0 or NaN seed_var = not testable: NaN results). look_weight w: the
    interval has level 1 - w (1 - confidence) and the MDE threshold is w x threshold_alpha
    (a sequential look spends w of the error rate); p-values are not scaled.

    V = seed_var / S + max(0, MS_ex - MS_int) / (S N) (S >= 2), seed_var + MS_ex / N
    (S = 1); p, interval, TOST and MDE from the calibrated critical values
    k_a(seed part, example part, seed_df) of :mod:`.critical`; df is Satterthwaite's (reported). A zero V gives p = 1
    when the gain is 0, else p = 0 (every seed and example agree).
    """
    confidence = check_probability_level("confidence", confidence)
    threshold_alpha = check_probability_level("threshold_alpha", threshold_alpha)
    v = np.asarray(seed_var, dtype=np.float64)
    vdf = np.asarray(seed_df, dtype=np.float64)
    w = np.asarray(look_weight, dtype=np.float64)
    gain = np.asarray(ms.gain, dtype=np.float64)
    seed_term, ex_term, _ = variance_terms(ms, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = seed_term + ex_term
        # Satterthwaite df with the example part known, as the critical values take it:
        # reported, and the power quantile of the MDE. (Counting the example part's own df
        # gave df near 0 when MS_ex and MS_int nearly cancel, and an MDE of 10^4 points.)
        den = np.where(np.isinf(vdf), 0.0, seed_term**2 / vdf)
        df = np.where(den > 0, var**2 / den, np.inf)
        se = np.sqrt(var)
        zero = se == 0
        se_safe = np.where(zero, 1.0, se)
        stat = np.where(zero, np.where(gain == 0, 0.0, np.sign(gain) * np.inf), gain / se_safe)
        p = np.where(zero, np.where(gain == 0, 1.0, 0.0), two_sided_p(gain, seed_term, ex_term, vdf))
        half = critical_value(w * (1.0 - confidence), seed_term, ex_term, vdf)
        # TOST: the two one-sided tests at level a reject beyond the two-sided k_{2a}.
        shifted = np.stack(np.broadcast_arrays(gain + margin, margin - gain))
        p_two = two_sided_p(shifted, seed_term, ex_term, vdf)
        p_one = np.where(shifted > 0, p_two / 2.0, 1.0 - p_two / 2.0)
        p_tost = np.where(zero, np.where(np.abs(gain) < margin, 0.0, 1.0), np.max(p_one, axis=0))
        mde = critical_value(w * threshold_alpha, seed_term, ex_term, vdf) + t_quantile(df, MDE_POWER) * se
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
    )
