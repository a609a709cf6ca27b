"""Significance of a transfer gain from paired per-example correctness

Data convention: ``correct_method`` and ``correct_ref`` are bool / 0-1 arrays shaped
(S, N) = (n_seeds, n_examples). Row s is seed s (the same seed for method and reference:
same target subsample, same initialisation), column i is test example i, the same example
in every row (the test set is fixed; seeds vary training). A 1-D array of shape (N,) is
read as a single seed. The per-example differences d(s, i) = method(s, i) - ref(s, i)
take values in {-1, 0, 1}; every estimate below is their mean
theta = mean_{s,i} d(s, i) = mean_s acc_method(s) - mean_s acc_ref(s) = transfer gain.

Methods (one line each):

- :func:`hierarchical_bootstrap`: two-stage crossed bootstrap ("resample seeds, then test
  examples", Owen 2007's pigeonhole bootstrap): draw S seeds with replacement, draw N example
  indices with replacement and apply the *same* example indices to every drawn seed (the
  examples are crossed with seeds, not nested in them). Percentile CI; two-sided p-value from
  the null-shifted replicates (Hall & Wilson 1991): p = (#{|theta* - theta| >= |theta|} + 1)
  / (B + 1).
- :func:`sign_flip_test`: paired permutation test whose exchangeable unit is the test
  example, with the seed-mean difference dbar(i) = mean_s d(s, i) as its value; each
  example's sign is flipped with probability 1/2; two-sided, p = (count + 1) / (B + 1).
- :func:`mcnemar_exact`: exact McNemar test for one seed (binomial test, p = 1/2, on the
  discordant counts).
- :func:`wilcoxon_seeds`: Wilcoxon signed-rank test on per-seed accuracies (S >= 6).

Notes on what the bootstrap estimates. For a crossed seeds x examples design the variance of
theta is var_seed / S + var_example / N + var_interaction / (S N). No resampling scheme
reproduces it exactly (McCullagh 2000). The crossed scheme used here estimates the first
term with a factor (S - 1) / S (slightly too small for 3 seeds) and counts the interaction
term up to three times, so it is conservative (intervals wider than nominal) when
seed-to-seed churn on the same example dominates, and close to nominal when persistent
example effects dominate. Resampling examples independently inside each seed (the "nested"
alternative) instead shrinks the example term by a factor S and is anti-conservative when
some examples are persistently won or lost, which is the common case; hence this choice.
The simulation tests in ``tests/test_stats_validity.py`` measure both properties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.stats

from benchmark.analysis.stats._validation import (
    FloatArray,
    IntArray,
    as_correct_matrix,
    as_finite_vector,
    check_count,
    check_probability_level,
    check_rng,
    check_same_shape,
    paired_differences,
)

#: Fewest seeds for which :func:`wilcoxon_seeds` runs a test (the one rule: the library and
#: ``significance.csv`` both use it). The smallest attainable exact two-sided p-value with S
#: seeds is 2 / 2**S: 0.0625 at 5 seeds, which can never reach the default alpha of 0.05;
#: 6 seeds reach 0.03125. A test that cannot reject is not run.
MIN_SEEDS_WILCOXON = 6

#: Decimals kept in per-seed accuracy differences before ranking (see wilcoxon_seeds).
_DIFF_DECIMALS = 12

#: Upper bound on the number of int64/float64 cells held at once by the bootstrap (~32 MB).
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap estimate of a mean paired difference.

    estimate: observed mean difference theta (= transfer gain); ci_low / ci_high: percentile
    confidence interval; p_value: two-sided p for H0 theta = 0; n_resamples: B.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_resamples: int


@dataclass(frozen=True)
class PermutationResult:
    """Sign-flip test result: statistic = observed mean difference, two-sided p_value."""

    statistic: float
    p_value: float
    n_permutations: int


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test on one seed: discordant counts and the two-sided p-value."""

    n_method_only: int
    n_ref_only: int
    p_value: float


@dataclass(frozen=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test across seeds (scipy's two-sided statistic and p-value)."""

    statistic: float
    p_value: float
    n_seeds: int


# --------------------------------------------------------------------------- bootstrap


def _column_patterns(d: npt.NDArray[np.int8]) -> tuple[IntArray, IntArray]:
    """Distinct columns of d and how often each occurs.

    Shape: d (S, N) -> patterns (S, K), counts (K,); K <= min(N, 3**S).
    """
    patterns, counts = np.unique(d, axis=1, return_counts=True)
    return patterns.astype(np.int64), counts.astype(np.int64)


def crossed_replicate_sums(
    patterns: IntArray, seed_counts: IntArray, pattern_counts: IntArray
) -> IntArray:
    """Sum of d over one crossed bootstrap sample, for each of B samples.

    Shapes: patterns (S, K) distinct columns of d; seed_counts (B, S) how often each seed
    was drawn; pattern_counts (B, K) how often an example with each column pattern was
    drawn -> (B,) int64 sums sum_s sum_k seed_counts[b, s] pattern_counts[b, k]
    patterns[s, k]. Dividing by S * N gives the replicate mean theta*.
    """
    # Float64 matmuls are exact here: every partial sum is an integer below S * N << 2**53.
    per_pattern = seed_counts.astype(np.float64) @ patterns.astype(np.float64)  # (B, K)
    sums = np.einsum("bk,bk->b", per_pattern, pattern_counts.astype(np.float64))
    return np.rint(sums).astype(np.int64)


def _bootstrap_sums(
    d: npt.NDArray[np.int8], rng: np.random.Generator, n_resamples: int
) -> IntArray:
    """B crossed-bootstrap replicate sums of d. Shape: d (S, N) -> (B,) int64.

    Drawing N examples with replacement is the same as drawing multinomial counts over the
    examples; examples sharing a column pattern are interchangeable, so only the counts per
    distinct column matter. With few distinct columns (K <= N / 6, e.g. K <= 3**5 = 243 for
    5 seeds) the counts are drawn directly as Multinomial(N, counts / N), cost O(B K);
    otherwise N example indices per replicate are drawn and binned, cost O(B N). Both give
    the same distribution; which one runs (and so the random stream) depends only on d.
    """
    n_seeds, n_examples = d.shape
    patterns, counts = _column_patterns(d)
    by_pattern = 6 * patterns.shape[1] <= n_examples
    if not by_pattern:  # every example is its own "pattern"
        patterns = d.astype(np.int64)
    width = patterns.shape[1]
    seed_counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n_resamples)
    out = np.empty(n_resamples, dtype=np.int64)
    chunk = max(1, _CHUNK_CELLS // max(width, n_seeds))
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        size = stop - start
        if by_pattern:
            pattern_counts = rng.multinomial(n_examples, counts / n_examples, size=size)
        else:
            drawn = rng.integers(0, n_examples, size=(size, n_examples))
            drawn += (np.arange(size) * n_examples)[:, None]
            pattern_counts = np.bincount(drawn.reshape(-1), minlength=size * n_examples).reshape(
                size, n_examples
            )
        out[start:stop] = crossed_replicate_sums(patterns, seed_counts[start:stop], pattern_counts)
    return out


def hierarchical_bootstrap(
    correct_method: npt.ArrayLike,
    correct_ref: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired hierarchical (seeds, then examples) bootstrap of the mean difference.

    Shapes: correct_method (S, N), correct_ref (S, N) bool/0-1 (or (N,) for one seed).

    Each replicate draws S seeds with replacement and N example indices with replacement;
    the same example indices are used within every drawn seed (seeds and examples are
    crossed: column i is the same test example for every seed). theta* is the mean of d
    over the S x N drawn cells. With S == 1 this is the ordinary example-level bootstrap.

    - estimate: theta = mean d (the transfer gain in accuracy points / 100).
    - CI: percentile interval, the (1 - confidence)/2 and (1 + confidence)/2 quantiles of
      theta* (numpy's linear interpolation).
    - p_value: two-sided, from the same replicates shifted to the null (Hall & Wilson 1991):
      (#{|theta* - theta| >= |theta|} + 1) / (B + 1); equal to 1 when theta == 0. It inverts
      the symmetric basic interval, so it agrees with the percentile CI (p < 1 - confidence
      iff 0 is outside the CI) up to the skewness of theta* and Monte Carlo error.

    Cost: O(B (S + min(K, N))) with K <= min(N, 3**S) distinct columns of d; a fraction of
    a second for B = 10,000 on 5 seeds x 10,000 examples. Replicates are exact integer sums
    (no float ties). The module docstring explains why the crossed scheme errs on the
    conservative side.
    """
    rng = check_rng(rng)
    n_resamples = check_count("n_resamples", n_resamples)
    confidence = check_probability_level("confidence", confidence)
    d = paired_differences(correct_method, correct_ref)
    n_cells = d.size
    total = int(d.sum(dtype=np.int64))
    sums = _bootstrap_sums(d, rng, n_resamples)
    theta_star = sums / n_cells
    low, high = np.quantile(theta_star, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    extreme = int(np.count_nonzero(np.abs(sums - total) >= abs(total)))
    return BootstrapResult(
        estimate=total / n_cells,
        ci_low=float(low),
        ci_high=float(high),
        p_value=(extreme + 1) / (n_resamples + 1),
        n_resamples=n_resamples,
    )


# --------------------------------------------------------------------------- sign flip


def sign_flip_test(
    correct_method: npt.ArrayLike,
    correct_ref: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    n_permutations: int = 10_000,
) -> PermutationResult:
    """Paired sign-flip permutation test of H0: method and reference are exchangeable.

    Shapes: correct_method (S, N), correct_ref (S, N) bool/0-1 (or (N,) for one seed).

    Unit: the test example. Its value is the seed-mean difference dbar(i) = mean_s d(s, i);
    under H0 (swapping the method and reference labels on an example leaves the joint
    distribution unchanged) dbar(i) is symmetric about 0, so each sign is flipped
    independently with probability 1/2. Statistic: mean_i dbar(i) (= the transfer gain).
    Two-sided Monte Carlo p-value (#{|T*| >= |T|} + 1) / (B + 1), counting in exact integers.

    The test conditions on the S training seeds: it generalises over test examples, not over
    seeds (the bootstrap also resamples seeds). Examples with the same |sum_s d(s, i)| = v
    are interchangeable, so a permutation draws, per distinct v, K_v ~ Binomial(n_v, 1/2)
    flipped-to-positive examples: T* = sum_v v (2 K_v - n_v); cost O(B S), not O(B N).
    """
    rng = check_rng(rng)
    n_permutations = check_count("n_permutations", n_permutations)
    d = paired_differences(correct_method, correct_ref)
    n_seeds, n_examples = d.shape
    per_example = d.sum(axis=0, dtype=np.int64)  # (N,) integers in [-S, S]
    observed = int(per_example.sum())
    magnitudes, n_with = np.unique(np.abs(per_example[per_example != 0]), return_counts=True)
    positives = rng.binomial(n_with, 0.5, size=(n_permutations, magnitudes.size))  # (B, V)
    flipped = (2 * positives - n_with) @ magnitudes  # (B,) int64
    extreme = int(np.count_nonzero(np.abs(flipped) >= abs(observed)))
    return PermutationResult(
        statistic=observed / (n_seeds * n_examples),
        p_value=(extreme + 1) / (n_permutations + 1),
        n_permutations=n_permutations,
    )


# --------------------------------------------------------------------------- McNemar


def mcnemar_exact(correct_method: npt.ArrayLike, correct_ref: npt.ArrayLike) -> McNemarResult:
    """Exact McNemar test for one seed.

    Shapes: correct_method (N,), correct_ref (N,) bool/0-1.

    Discordant counts b = #{method right, ref wrong}, c = #{method wrong, ref right};
    p = scipy.stats.binomtest(b, b + c, 0.5) two-sided p-value; p = 1.0 when b + c == 0.
    """
    m = np.asarray(correct_method)
    r = np.asarray(correct_ref)
    for name, arr in (("correct_method", m), ("correct_ref", r)):
        if arr.ndim != 1:
            raise ValueError(
                f"{name} must be 1-D (one seed, shape (n_examples,)), got shape {arr.shape}; "
                "use mcnemar_per_seed for (n_seeds, n_examples)"
            )
    d = paired_differences(m, r)
    b = int(np.count_nonzero(d == 1))
    c = int(np.count_nonzero(d == -1))
    p = 1.0 if b + c == 0 else float(scipy.stats.binomtest(b, b + c, 0.5).pvalue)
    return McNemarResult(n_method_only=b, n_ref_only=c, p_value=min(1.0, p))


def mcnemar_per_seed(
    correct_method: npt.ArrayLike, correct_ref: npt.ArrayLike
) -> list[McNemarResult]:
    """:func:`mcnemar_exact` on every seed. Shapes: (S, N), (S, N) -> list of S results."""
    m = as_correct_matrix("correct_method", correct_method)
    r = as_correct_matrix("correct_ref", correct_ref)
    check_same_shape("correct_method", m, "correct_ref", r)
    return [mcnemar_exact(m[s], r[s]) for s in range(m.shape[0])]


# --------------------------------------------------------------------------- Wilcoxon


def wilcoxon_seeds(acc_method: npt.ArrayLike, acc_ref: npt.ArrayLike) -> WilcoxonResult | None:
    """Wilcoxon signed-rank test on per-seed accuracies, paired by seed.

    Shapes: acc_method (S,), acc_ref (S,) -> WilcoxonResult, or None when
    S < MIN_SEEDS_WILCOXON (6; see that constant: 5 seeds cannot reach p < 0.05).

    Calls ``scipy.stats.wilcoxon`` on the differences acc_method - acc_ref rounded to 12
    decimals (two-sided, zero differences dropped, scipy's automatic choice of exact or
    normal-approximation p). When every
    difference is zero there is no evidence either way: statistic 0.0, p = 1.0.
    """
    m = as_finite_vector("acc_method", acc_method)
    r = as_finite_vector("acc_ref", acc_ref)
    check_same_shape("acc_method", m, "acc_ref", r)
    if m.size < MIN_SEEDS_WILCOXON:
        return None
    # Rounding removes float noise, so equal accuracy gaps (e.g. 0.71 - 0.70 and 0.72 - 0.71)
    # are seen as ties and exact zeros as zeros.
    diff = np.round(m - r, _DIFF_DECIMALS)
    if np.all(diff == 0):
        return WilcoxonResult(statistic=0.0, p_value=1.0, n_seeds=int(m.size))
    res = scipy.stats.wilcoxon(diff)
    return WilcoxonResult(
        statistic=float(res.statistic), p_value=float(res.pvalue), n_seeds=int(m.size)
    )


def paired_example_differences(
    correct_method: npt.ArrayLike, correct_ref: npt.ArrayLike
) -> FloatArray:
    """Seed-mean difference per example, dbar(i). Shapes: (S, N), (S, N) -> (N,) float."""
    return paired_differences(correct_method, correct_ref).mean(axis=0, dtype=np.float64)
