"""Transferability estimators: hand-computed values, properties, rank agreement, bad input."""

import math

import numpy as np
import pytest
import scipy.stats

from benchmark.analysis.stats.transferability import (
    _evidence,
    _logme_fits,
    h_score,
    knn_probe_accuracy,
    leep,
    logme,
    mean_rank_agreement,
    nce,
    rank_agreement,
)


def _direct_evidence(features: np.ndarray, target: np.ndarray, alpha: float, beta: float) -> float:
    """log p(y | F, alpha, beta) / N straight from the marginal y ~ N(0, I / beta + F F^T / alpha)."""
    n = features.shape[0]
    cov = np.eye(n) / beta + features @ features.T / alpha
    return float(scipy.stats.multivariate_normal(np.zeros(n), cov).logpdf(target)) / n


def _mixture(rng: np.random.Generator, n: int, d: int, n_classes: int, signal: float):
    labels = rng.integers(0, n_classes, size=n)
    features = signal * np.eye(n_classes)[labels] @ rng.normal(size=(n_classes, d)) + rng.normal(size=(n, d))
    return features, labels


# ----------------------------------------------------------------------------- LogME


def test_logme_evidence_formula_matches_direct_computation_for_fixed_alpha_beta():
    rng = np.random.default_rng(0)
    features, labels = _mixture(rng, 12, 4, 2, 1.0)
    target = (labels == 1).astype(float)
    alpha, beta = 0.7, 3.0
    # The paper's formula with explicit matrices: A = alpha I + beta F^T F, m = beta A^-1 F^T y.
    a = alpha * np.eye(4) + beta * features.T @ features
    m = beta * np.linalg.solve(a, features.T @ target)
    res = np.sum((features @ m - target) ** 2)
    paper = (12 / 2 * math.log(beta) + 4 / 2 * math.log(alpha) - 12 / 2 * math.log(2 * math.pi)
             - beta / 2 * res - alpha / 2 * m @ m - np.linalg.slogdet(a)[1] / 2)
    u, s, _ = np.linalg.svd(features, full_matrices=False)
    ours = _evidence(s, u.T @ target, float(target @ target), 12, 4, alpha, beta)[0]
    assert ours == pytest.approx(paper, rel=1e-10)
    assert ours / 12 == pytest.approx(_direct_evidence(features, target, alpha, beta), rel=1e-10)


@pytest.mark.parametrize(("n", "d"), [(30, 5), (10, 20)])  # N > D and N < D
def test_logme_is_the_maximum_evidence_over_alpha_beta(n, d):
    rng = np.random.default_rng(1)
    features, labels = _mixture(rng, n, d, 3, 1.0)
    fits = _logme_fits(features, labels)
    assert logme(features, labels) == pytest.approx(float(np.mean(fits[:, 0])))
    grid = np.exp(np.linspace(-1.0, 1.0, 9))
    for c, (value, alpha, beta) in enumerate(fits):
        target = (labels == c).astype(float)
        assert value == pytest.approx(_direct_evidence(features, target, alpha, beta), rel=1e-9)
        best = max(_direct_evidence(features, target, alpha * ga, beta * gb) for ga in grid for gb in grid)
        assert best <= value + 1e-9


def test_logme_rises_with_label_feature_alignment():
    # Property test, so the data are generated: features = signal * onehot(y) @ W + noise.
    values = [logme(*_mixture(np.random.default_rng(2), 200, 16, 4, signal)) for signal in (0.0, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values


# ------------------------------------------------------------------------------ LEEP


def test_leep_hand_computed():
    theta = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    labels = np.array([0, 0, 1, 1])
    # P(y, z): (0, z0) = 1.4/4, (0, z1) = 0.6/4, (1, z0) = 0.4/4, (1, z1) = 1.6/4; P(z) = 0.45, 0.55.
    p0z0, p0z1, p1z0, p1z1 = 7 / 9, 3 / 11, 2 / 9, 8 / 11
    eep = [0.8 * p0z0 + 0.2 * p0z1, 0.6 * p0z0 + 0.4 * p0z1, 0.3 * p1z0 + 0.7 * p1z1, 0.1 * p1z0 + 0.9 * p1z1]
    assert leep(theta, labels) == pytest.approx(np.mean(np.log(eep)), rel=1e-12)


def test_leep_highest_for_source_that_identifies_the_label():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=120)
    identity = np.eye(3)[labels] * 0.9 + 0.1 / 3
    noisy = 0.5 * identity + 0.5 * rng.dirichlet(np.ones(3), size=120)
    random = rng.dirichlet(np.ones(4), size=120)
    values = [leep(p, labels) for p in (identity, noisy, random)]
    assert values[0] > values[1] > values[2]
    assert values[0] <= 0


# ------------------------------------------------------------------------------- NCE


def test_nce_hand_computed():
    z = [0, 0, 0, 1, 1, 1]
    y = [0, 0, 1, 1, 1, 1]
    # H(Y | Z) = 1/2 H(2/3, 1/3) + 1/2 * 0
    expected = -0.5 * -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert nce(z, y) == pytest.approx(expected, rel=1e-12)


def test_nce_zero_when_label_is_function_of_prediction_and_minus_entropy_when_independent():
    z = np.arange(12) % 6
    assert nce(z, z % 2) == 0.0
    z = np.repeat([0, 1], 6)
    y = np.tile([0, 0, 1, 1, 1, 2], 2)  # the same label distribution under each prediction
    assert nce(z, y) == pytest.approx(-scipy.stats.entropy([2, 3, 1]), rel=1e-12)


# --------------------------------------------------------------------------- H-score


def test_h_score_1d_is_between_over_total_variance():
    f = np.array([[1.0], [2.0], [3.0], [7.0], [8.0], [9.0]])
    labels = [0, 0, 0, 1, 1, 1]
    # mean 5, class means 2 and 8: between = 9, total = (16 + 9 + 4 + 4 + 9 + 16) / 6
    assert h_score(f, labels) == pytest.approx(9 / (58 / 6), rel=1e-12)


def test_h_score_matches_inverse_formula_and_is_scale_invariant():
    rng = np.random.default_rng(4)
    features, labels = _mixture(rng, 60, 3, 3, 1.0)
    g = np.stack([features[labels == c].mean(axis=0) for c in range(3)])[labels]
    expected = np.trace(np.linalg.inv(np.cov(features.T, bias=True)) @ np.cov(g.T, bias=True))
    assert h_score(features, labels) == pytest.approx(expected, rel=1e-9)
    for scale in (1e-3, 1e3):
        assert h_score(scale * features, labels) == pytest.approx(expected, rel=1e-9)
    # N < D: rank-deficient covariance; the score saturates at C - 1 (any labelling is separable).
    wide, wide_labels = _mixture(rng, 8, 20, 3, 0.0)
    assert h_score(wide, wide_labels) == pytest.approx(len(np.unique(wide_labels)) - 1, rel=1e-6)


# ------------------------------------------------------------------------------ k-NN


def test_knn_hand_computed_and_tie_breaks():
    f = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 0.05]]
    # k = 1: points 0 and 1 are nearest to point 4 (label 1) and point 4 to point 0: 2 / 5 right.
    assert knn_probe_accuracy(f, [0, 0, 1, 1, 1], k=1) == pytest.approx(2 / 5)
    f = [[1.0, 0.0], [1.0, 1.0], [1.0, -1.0]]
    # k = 2, every vote is 1:1. Point 0 sees both others equally similar -> lowest label;
    # points 1 and 2 follow the larger similarity, i.e. point 0's label.
    assert knn_probe_accuracy(f, [1, 1, 2], k=2) == pytest.approx(2 / 3)
    assert knn_probe_accuracy(f, [2, 1, 2], k=2) == pytest.approx(1 / 3)


def test_knn_perfect_on_separated_clusters_and_chance_on_random_labels():
    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(3), 40)
    clusters = 10 * np.eye(3)[labels] + rng.normal(scale=0.1, size=(120, 3))
    assert knn_probe_accuracy(clusters, labels) == 1.0
    # Random labels: over seeds the accuracy has mean ~0.34 and sd ~0.02 at N = 600.
    noise = rng.normal(size=(600, 8))
    assert abs(knn_probe_accuracy(noise, rng.integers(0, 3, size=600)) - 1 / 3) < 0.08


# -------------------------------------------------------------------- rank agreement


def _ordered(rng: np.random.Generator, sign: float) -> tuple[np.ndarray, np.ndarray]:
    base = np.arange(6.0)  # seed noise far below the gap between sources: every resample keeps the order
    return base + 0.05 * rng.normal(size=(4, 6)), sign * 2 * base + 0.05 * rng.normal(size=(4, 6))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_rank_agreement_perfect_and_reversed(sign):
    scores, gains = _ordered(np.random.default_rng(6), sign)
    out = rank_agreement(scores, gains, np.random.default_rng(0), n_boot=200)
    for name in ("kendall_tau", "weighted_tau"):
        assert out[name] == pytest.approx(sign)
        assert out[f"{name}_low"] == pytest.approx(sign) and out[f"{name}_high"] == pytest.approx(sign)
    assert (out["n_sources"], out["n_seeds"]) == (6, 4)


def test_rank_agreement_noisy_matches_scipy_ci_contains_point_and_is_deterministic():
    rng = np.random.default_rng(7)
    truth = rng.normal(size=8)
    scores = truth + rng.normal(scale=0.8, size=(5, 8))
    gains = truth + rng.normal(scale=0.8, size=(5, 8))
    scores[0, 2] = gains[3, 5] = np.nan  # missing runs
    out = rank_agreement(scores, gains, np.random.default_rng(1), n_boot=300)
    x, y = np.nanmean(scores, axis=0), np.nanmean(gains, axis=0)
    assert out["kendall_tau"] == pytest.approx(scipy.stats.kendalltau(x, y).statistic)
    assert out["weighted_tau"] == pytest.approx(scipy.stats.weightedtau(x, y).statistic)
    for name in ("kendall_tau", "weighted_tau"):
        assert -1 <= out[f"{name}_low"] <= out[name] <= out[f"{name}_high"] <= 1
    assert rank_agreement(scores, gains, np.random.default_rng(1), n_boot=300) == out


def test_rank_agreement_single_source_is_nan():
    out = rank_agreement([[0.1], [0.2]], [[1.0], [2.0]], np.random.default_rng(0), n_boot=10)
    assert math.isnan(out["kendall_tau"]) and math.isnan(out["weighted_tau_high"])
    assert out["n_sources"] == 1


def test_mean_rank_agreement_averages_groups():
    rng = np.random.default_rng(8)
    perfect = _ordered(rng, 1.0)
    noisy = (rng.normal(size=(3, 5)), rng.normal(size=(3, 5)))
    out = mean_rank_agreement([perfect, noisy], np.random.default_rng(2), n_boot=200)
    single = rank_agreement(*noisy, np.random.default_rng(2), n_boot=10)
    assert out["kendall_tau"] == pytest.approx((1.0 + single["kendall_tau"]) / 2)
    assert out["weighted_tau"] == pytest.approx((1.0 + single["weighted_tau"]) / 2)
    assert -1 <= out["kendall_tau_low"] <= out["kendall_tau"] <= out["kendall_tau_high"] <= 1
    assert (out["n_groups"], out["n_sources"], out["n_seeds"]) == (2, 11, 3)
    assert mean_rank_agreement([perfect, noisy], np.random.default_rng(2), n_boot=200) == out


# ------------------------------------------------------------------------- bad input

_F = np.ones((4, 2)) + np.eye(4, 2)
_P = np.full((4, 2), 0.5)
_R = np.random.default_rng(0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: logme(np.ones(4), [0, 1, 0, 1]),  # features not 2-D
        lambda: logme(_F, [0, 1, 0]),  # wrong number of labels
        lambda: logme(_F, [0, 1, -1, 1]),  # label out of range
        lambda: logme(_F, [0, 1, 0.5, 1]),  # not an integer
        lambda: logme(np.zeros((4, 2)), [0, 1, 0, 1]),  # all-zero features
        lambda: h_score(np.full((4, 2), np.nan), [0, 1, 0, 1]),
        lambda: leep(_P * 1.1, [0, 1, 0, 1]),  # rows do not sum to 1
        lambda: leep(np.array([[1.5, -0.5]] * 4), [0, 1, 0, 1]),  # negative probability
        lambda: leep(_P, [[0, 1, 0, 1]]),  # labels not 1-D
        lambda: nce([0, 1, 0], [0, 1]),
        lambda: nce([], []),
        lambda: knn_probe_accuracy(_F, [0, 1, 0, 1], k=4),  # k > N - 1
        lambda: knn_probe_accuracy(np.vstack([_F, np.zeros(2)]), [0, 1, 0, 1, 0], k=1),  # zero row
        lambda: rank_agreement(np.ones((3, 4)), np.ones((3, 5)), _R),
        lambda: rank_agreement(np.ones(4), np.ones(4), _R),
        lambda: rank_agreement(np.full((2, 3), np.inf), np.ones((2, 3)), _R),
        lambda: rank_agreement(np.ones((2, 3)), np.ones((2, 3)), _R, level=1.5),
        lambda: rank_agreement(np.ones((2, 3)), np.ones((2, 3)), _R, n_boot=0),
        lambda: mean_rank_agreement([], _R),
        lambda: mean_rank_agreement([(np.ones((2, 3)),)], _R),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_non_generator_rng_raises_type_error():
    with pytest.raises(TypeError):
        rank_agreement(np.ones((2, 3)), np.ones((2, 3)), 0)
    with pytest.raises(TypeError):
        mean_rank_agreement([(np.ones((2, 3)), np.ones((2, 3)))], np.random.RandomState(0))


def test_two_source_bootstrap_fast_path_equals_the_general_computation() -> None:
    from benchmark.analysis.stats.transferability import _boot_taus, _nanmean, _taus

    rng = np.random.default_rng(3)
    scores, gains = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    scores[1, 0] = gains[2, 1] = np.nan  # missing runs
    draws = rng.integers(0, 5, size=(400, 5))
    fast = _boot_taus(scores, gains, draws)
    slow = np.array([_taus(_nanmean(scores[d], 0), _nanmean(gains[d], 0)) for d in draws])
    np.testing.assert_array_equal(fast, slow)
