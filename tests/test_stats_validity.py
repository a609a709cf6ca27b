"""Validity of the paired significance procedures, by simulation

(a) A/A: with no true difference, "p < 0.05" must happen at most 5% of the time (within
    simulation error); (b) coverage: the 95% bootstrap interval must cover a known true
    gain about 95% of the time; (c) the same rng seed gives the same numbers; (d) power: a
    large true gain is detected.

Simulation error: with R repetitions an estimated rate r has standard error
sqrt(r (1 - r) / R); at r = 0.05 and R = 1000 that is 0.0069, so the A/A bound
0.05 + 3 SE = 0.0707. Every simulation uses a fixed seed, so each test is deterministic;
the bands are set so that a correct procedure passes with room to spare, while the
plausible mistakes fail them (checked while writing: a bootstrap that resamples examples
independently inside each seed rejects 9.6% of the 5-seed A/A data sets; a sign-flip test
over single (seed, example) cells rejects 12-18%).

Measured with the seeds below (R = 1000): A/A rate of p < 0.05 for the bootstrap 0.041
(1 seed), 0.012 (3), 0.012 (5), 0.016 (5, seed effects); sign flip 0.034, 0.032, 0.036.
Coverage 0.939 (1 seed), 0.983 (3 seeds, seed effects), 0.985 (5 seeds); mean interval
half-width / (1.96 x true SD of the estimate) 0.99, 1.31, 1.32: with several seeds the
crossed bootstrap is conservative (see benchmark.analysis.stats.paired).

Data generator (paired, with the shared structure real classifiers have). Each test
example i has a type drawn from a fixed mixture; the type fixes P(ref correct) = p_i and
P(method correct) = q_i for every seed: easy examples both models get right, hard ones both
miss, unstable ones are coin flips, and "persistent" ones one model tends to win on every
seed. Within a (seed, example) cell the two correctness draws share the same uniform half
of the time (so identical examples agree), and are independent otherwise. Optionally, each
(seed, model) also loses a random share U(0, seed_loss) of its correct answers, a
seed-level effect common to all examples. The true gain, the expectation over examples and
seeds of mean d, is sum_type share * (q - p) * (1 - seed_loss / 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.analysis import stats

# (share, p_ref, p_method). Overall accuracy ~0.70.
NULL_TYPES = [
    (0.55, 0.95, 0.95),  # easy
    (0.15, 0.15, 0.15),  # hard
    (0.15, 0.50, 0.50),  # unstable across seeds
    (0.075, 0.20, 0.80),  # persistently won by the method ...
    (0.075, 0.80, 0.20),  # ... and as often by the reference: no net difference
]
GAIN_TYPES = [  # method ~0.75 vs reference ~0.70: true gain 0.10 * (0.70 - 0.20) = 0.05
    (0.55, 0.95, 0.95),
    (0.15, 0.15, 0.15),
    (0.15, 0.50, 0.50),
    (0.10, 0.20, 0.70),
    (0.05, 0.80, 0.80),
]
BIG_GAIN_TYPES = [  # true gain 0.25 * 0.6 = 0.15
    (0.55, 0.95, 0.95),
    (0.20, 0.50, 0.50),
    (0.25, 0.20, 0.80),
]


def true_gain(types: list[tuple[float, float, float]], seed_loss: float = 0.0) -> float:
    return sum(w * (q - p) for w, p, q in types) * (1 - seed_loss / 2)


def simulate(
    rng: np.random.Generator,
    types: list[tuple[float, float, float]],
    n_seeds: int,
    n_examples: int,
    seed_loss: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(method, ref) correctness, each (n_seeds, n_examples) bool."""
    shares = np.array([t[0] for t in types])
    kind = rng.choice(len(types), size=n_examples, p=shares / shares.sum())
    p = np.array([t[1] for t in types])[kind]
    q = np.array([t[2] for t in types])[kind]
    u = rng.random((n_seeds, n_examples))
    ref = u < p
    shared = rng.random((n_seeds, n_examples)) < 0.5
    method = np.where(shared, u < q, rng.random((n_seeds, n_examples)) < q)
    if seed_loss > 0:
        for correct in (method, ref):
            loss = rng.uniform(0, seed_loss, size=(n_seeds, 1))
            correct &= ~(rng.random((n_seeds, n_examples)) < loss)
    return method, ref


def rate_bound(rate: float, reps: int) -> float:
    return rate + 3 * np.sqrt(rate * (1 - rate) / reps)


# --------------------------------------------------------------------------- (a) A/A


@pytest.mark.parametrize(("n_seeds", "seed_loss"), [(1, 0.0), (3, 0.0), (5, 0.0), (5, 0.04)])
def test_aa_false_positive_rate(n_seeds: int, seed_loss: float) -> None:
    reps, n_examples, n_boot = 1000, 300, 499
    rng = np.random.default_rng(1000 + n_seeds + int(100 * seed_loss))
    boot_hits = flip_hits = 0
    for _ in range(reps):
        method, ref = simulate(rng, NULL_TYPES, n_seeds, n_examples, seed_loss)
        boot = stats.hierarchical_bootstrap(method, ref, rng=rng, n_resamples=n_boot)
        boot_hits += boot.p_value < 0.05
        if seed_loss == 0.0:  # the sign-flip test conditions on the seeds (see its docstring)
            flip = stats.sign_flip_test(method, ref, rng=rng, n_permutations=n_boot)
            flip_hits += flip.p_value < 0.05
    bound = rate_bound(0.05, reps)
    assert boot_hits / reps <= bound, f"bootstrap A/A rate {boot_hits / reps:.3f} > {bound:.3f}"
    if seed_loss == 0.0:
        # Under this null the sign-flip test is exact up to the discreteness of the statistic
        # (ties |T*| = |T| count as extreme) and the +1 rule, both conservative: measured
        # 0.032-0.036 here. The lower bound catches a test that (almost) never rejects.
        assert 0.02 <= flip_hits / reps <= bound, f"sign-flip A/A rate {flip_hits / reps:.3f}"


# --------------------------------------------------------------------------- (b) coverage


@pytest.mark.parametrize(
    ("n_seeds", "seed_loss", "band"),
    [
        # One seed: the ordinary example bootstrap, expected ~0.95 (+-3 SE = +-0.021).
        (1, 0.0, (0.925, 0.975)),
        # Several seeds: the crossed bootstrap is conservative by construction (the
        # seed-by-example churn is counted more than once, see benchmark.analysis.stats.paired);
        # in this generator it covers ~0.98. The width check below bounds how conservative.
        (3, 0.04, (0.93, 0.995)),
        (5, 0.0, (0.93, 0.995)),
    ],
)
def test_bootstrap_ci_coverage(n_seeds: int, seed_loss: float, band: tuple[float, float]) -> None:
    reps, n_examples = 1000, 300
    truth = true_gain(GAIN_TYPES, seed_loss)
    rng = np.random.default_rng(2000 + n_seeds)
    covered = 0
    estimates, half_widths = np.empty(reps), np.empty(reps)
    for r in range(reps):
        method, ref = simulate(rng, GAIN_TYPES, n_seeds, n_examples, seed_loss)
        res = stats.hierarchical_bootstrap(method, ref, rng=rng, n_resamples=499)
        covered += res.ci_low <= truth <= res.ci_high
        estimates[r] = res.estimate
        half_widths[r] = (res.ci_high - res.ci_low) / 2
    coverage = covered / reps
    assert band[0] <= coverage <= band[1], f"coverage {coverage:.3f} outside {band}"
    # The estimate is unbiased for the true gain (SE of the mean over reps ~0.001).
    assert abs(estimates.mean() - truth) < 4 * estimates.std() / np.sqrt(reps)
    # Interval width against the true sampling spread of the estimate across repetitions:
    # a nominal interval has mean half-width ~ 1.96 * sd(estimate), ratio ~1 (measured 0.99
    # for 1 seed, 1.31-1.32 for 3-5 seeds).
    ratio = half_widths.mean() / (1.96 * estimates.std())
    assert 0.9 <= ratio <= 1.4, f"half-width / (1.96 sd) = {ratio:.2f}"


# --------------------------------------------------------------------------- (c) seeds


def test_same_seed_same_numbers_different_seed_different_draws() -> None:
    method, ref = simulate(np.random.default_rng(5), GAIN_TYPES, 3, 200)
    a = stats.hierarchical_bootstrap(method, ref, rng=np.random.default_rng(42), n_resamples=999)
    b = stats.hierarchical_bootstrap(method, ref, rng=np.random.default_rng(42), n_resamples=999)
    c = stats.hierarchical_bootstrap(method, ref, rng=np.random.default_rng(43), n_resamples=999)
    assert a == b
    assert a.estimate == c.estimate
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    f1 = stats.sign_flip_test(method, ref, rng=np.random.default_rng(42), n_permutations=999)
    f2 = stats.sign_flip_test(method, ref, rng=np.random.default_rng(42), n_permutations=999)
    f3 = stats.sign_flip_test(method, ref, rng=np.random.default_rng(43), n_permutations=999)
    assert f1 == f2
    assert 0.002 < f1.p_value < 0.9  # not at a boundary, so other draws must differ
    assert f1.p_value != f3.p_value


# --------------------------------------------------------------------------- (d) power


@pytest.mark.parametrize("sign", [1, -1])
def test_large_gain_is_detected(sign: int) -> None:
    rng = np.random.default_rng(3000 + sign)
    types = BIG_GAIN_TYPES if sign > 0 else [(w, q, p) for w, p, q in BIG_GAIN_TYPES]
    for _ in range(20):
        method, ref = simulate(rng, types, 3, 300)
        boot = stats.hierarchical_bootstrap(method, ref, rng=rng, n_resamples=999)
        flip = stats.sign_flip_test(method, ref, rng=rng, n_permutations=999)
        assert boot.p_value < 0.01 and flip.p_value < 0.01
        assert np.sign(boot.estimate) == sign
        assert (boot.ci_low > 0) if sign > 0 else (boot.ci_high < 0)
        assert stats.verdict(boot.estimate, boot.p_value) == (
            "positive" if sign > 0 else "negative"
        )


def test_moderate_gain_power() -> None:
    # True gain 0.05 with 5 seeds x 300 examples: measured power ~0.9 (bootstrap) and ~0.98
    # (sign flip) at alpha = 0.05; 100 repetitions, bounds far below those values.
    rng = np.random.default_rng(4000)
    boot_hits = flip_hits = 0
    for _ in range(100):
        method, ref = simulate(rng, GAIN_TYPES, 5, 300)
        boot_hits += (
            stats.hierarchical_bootstrap(method, ref, rng=rng, n_resamples=499).p_value < 0.05
        )
        flip_hits += stats.sign_flip_test(method, ref, rng=rng, n_permutations=499).p_value < 0.05
    assert boot_hits >= 75 and flip_hits >= 85, (boot_hits, flip_hits)
