"""Transferability estimators: score a source model for a target task before fine-tuning.

Shapes: N target examples, D feature dimensions, Cs source classes, S seeds, P candidate
sources for one target. Labels are non-negative integers (N,); C = the classes present.

- :func:`logme` -- features (N, D), labels (N,): mean per-class log evidence / N of Bayesian
  linear regression on one-hot targets. You et al. 2021, "LogME: Practical Assessment of
  Pre-trained Models for Transfer Learning", ICML.
- :func:`leep` -- source class probabilities (N, Cs), labels (N,). Nguyen et al. 2020, "LEEP:
  A New Measure to Evaluate Transferability of Learned Representations", ICML.
- :func:`nce` -- hard source predictions (N,), labels (N,): -H(Y | Z). Tran, Nguyen & Hassner
  2019, "Transferability and Hardness of Supervised Classification Tasks", ICCV.
- :func:`h_score` -- features (N, D), labels (N,): tr(cov(f)^+ cov(E[f | y])). Bao et al.
  2019, "An Information-Theoretic Approach to Transferability in Task Transfer Learning", ICIP.
- :func:`knn_probe_accuracy` -- features (N, D), labels (N,): leave-one-out cosine k-NN
  accuracy, a simple baseline.
- :func:`rank_agreement` -- scores and gains (S, P): Kendall tau-b and weighted tau between
  the seed-mean estimator scores and seed-mean transfer gains, with seed-bootstrap CIs;
  :func:`mean_rank_agreement` averages them over several targets (stratified bootstrap).

Bad input raises ``ValueError`` (one line naming the argument); a ``rng`` that is not a
``numpy.random.Generator`` raises ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.stats

from benchmark.analysis.stats._validation import (
    FloatArray,
    IntArray,
    check_count,
    check_probability_level,
    check_rng,
)

LOGME_TOL = 1e-3  # relative change of alpha and beta that stops the fixed-point iteration
LOGME_MAX_ITER = 100
PROB_SUM_TOL = 1e-4  # how far a probability row may sum from 1
H_SCORE_RTOL = 1e-10  # eigenvalues of cov(f) below this fraction of the largest count as zero

_TINY = np.finfo(np.float64).tiny  # floors denominators that are exactly 0 (degenerate fits)


def _features(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (N, D), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _labels(name: str, values: npt.ArrayLike, n: int) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be 1-D with {n} entries (one per example), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must hold integers >= 0 (class indices in [0, C))")
    return arr.astype(np.int64)


# ----------------------------------------------------------------------------- LogME


def _evidence(
    s: FloatArray, z: FloatArray, y_sq: float, n: int, d: int, alpha: float, beta: float
) -> tuple[float, float, float, float]:
    """Log evidence of y under y = F m + noise, m ~ N(0, I / alpha), noise ~ N(0, I / beta).

    Everything in the SVD basis F = U diag(s) V^T: s (r,) singular values, z = U^T y (r,),
    y_sq = ||y||^2. Returns (evidence, gamma, m^T m, ||F m - y||^2) at the posterior mean m.
    """
    sigma = s * s
    denom = alpha + beta * sigma
    gamma = float(np.sum(beta * sigma / denom))
    m_sq = float(np.sum((beta * s * z / denom) ** 2))
    # The part of y outside the column space of F is never fitted; clip rounding below 0.
    res_sq = float(np.sum((alpha * z / denom) ** 2) + max(y_sq - float(z @ z), 0.0))
    # D - r eigenvalues of F^T F are 0: each adds log(alpha) to log|A|.
    log_det = float(np.sum(np.log(denom))) + (d - s.size) * np.log(alpha)
    evidence = (
        n / 2 * np.log(beta) + d / 2 * np.log(alpha) - n / 2 * np.log(2 * np.pi)
        - beta / 2 * res_sq - alpha / 2 * m_sq - log_det / 2
    )
    return float(evidence), gamma, m_sq, res_sq


def _logme_fits(features: npt.ArrayLike, labels: npt.ArrayLike) -> FloatArray:
    """Per present class: (evidence / N, alpha, beta) at the fixed point. Shape (C, 3)."""
    f = _features("features", features)
    n, d = f.shape
    y = _labels("labels", labels, n)
    # Thin SVD: min(N, D) singular values, so N < D costs O(N^2 D), not O(D^3).
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    if s[0] == 0.0:
        raise ValueError("features are all zero; LogME needs at least one nonzero feature")
    out = []
    # Absent classes would have an all-zero target with unbounded evidence: skip them.
    for c in np.unique(y):
        target = (y == c).astype(np.float64)
        z, y_sq = u.T @ target, float(target @ target)
        alpha, beta = 1.0, 1.0  # the paper's initialisation
        for _ in range(LOGME_MAX_ITER):
            _, gamma, m_sq, res_sq = _evidence(s, z, y_sq, n, d, alpha, beta)
            new_alpha = gamma / max(m_sq, _TINY)
            new_beta = max(n - gamma, _TINY) / max(res_sq, _TINY)
            done = abs(new_alpha - alpha) <= LOGME_TOL * alpha and abs(new_beta - beta) <= LOGME_TOL * beta
            alpha, beta = max(new_alpha, _TINY), new_beta
            if done:
                break
        # Evidence at the final (alpha, beta) with its own posterior mean.
        out.append((_evidence(s, z, y_sq, n, d, alpha, beta)[0] / n, alpha, beta))
    return np.asarray(out, dtype=np.float64)


def logme(features: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """LogME (You et al. 2021): mean over classes c of max log p(y_c | F, alpha, beta) / N.

    Shapes: features (N, D) float, labels (N,) ints >= 0 -> float (higher = more transferable).
    y_c is the one-hot column of class c; alpha and beta are fitted per class by MacKay's
    fixed-point iteration (alpha = beta = 1 to start, until both change by < 0.1% or 100
    iterations). Features are used as given: no centring or scaling (as in the reference
    code), so add a constant column yourself if an intercept is wanted. Classes absent from
    ``labels`` are skipped. With N < D the maximum is often on the boundary (alpha -> inf: no
    signal, or beta -> inf: y interpolated); the iteration then runs its 100 steps and returns
    the (finite) limiting evidence.
    """
    return float(np.mean(_logme_fits(features, labels)[:, 0]))


# ----------------------------------------------------------------- LEEP, NCE, H-score


def leep(source_probabilities: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """LEEP (Nguyen et al. 2020): mean log expected empirical prediction of the true label.

    Shapes: source_probabilities (N, Cs), rows summing to 1 (to 1e-4); labels (N,) -> float
    <= 0 (higher = more transferable). P(y, z) = 1/N sum_i theta_iz [y_i = y],
    P(y | z) = P(y, z) / P(z), LEEP = 1/N sum_i log sum_z P(y_i | z) theta_iz.
    """
    theta = _features("source_probabilities", source_probabilities)
    y = _labels("labels", labels, theta.shape[0])
    if np.any(theta < 0) or np.any(np.abs(theta.sum(axis=1) - 1.0) > PROB_SUM_TOL):
        raise ValueError(f"source_probabilities rows must be >= 0 and sum to 1 (within {PROB_SUM_TOL})")
    n = theta.shape[0]
    joint = np.zeros((int(y.max()) + 1, theta.shape[1]))
    np.add.at(joint, y, theta / n)
    p_z = joint.sum(axis=0)
    # A source class with P(z) = 0 has theta_iz = 0 for every i, so its column never counts.
    cond = np.divide(joint, p_z, out=np.zeros_like(joint), where=p_z > 0)
    # sum_z P(y_i | z) theta_iz >= theta_iz^2 / (N P(z)) > 0, so the log is finite.
    return float(np.mean(np.log(np.sum(cond[y] * theta, axis=1))))


def nce(source_predictions: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """NCE (Tran et al. 2019): -H(Y | Z) in nats from the empirical joint of (z_i, y_i).

    Shapes: source_predictions (N,) ints >= 0 (hard source labels), labels (N,) -> float <= 0;
    0 when y is a function of z, -H(Y) when they are independent.
    """
    z = np.asarray(source_predictions)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"source_predictions must be a non-empty 1-D array (N,), got shape {z.shape}")
    z = _labels("source_predictions", z, z.size)
    y = _labels("labels", labels, z.size)
    _, zi = np.unique(z, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((zi.max() + 1, yi.max() + 1))
    np.add.at(joint, (zi, yi), 1.0 / z.size)
    p_z = joint.sum(axis=1, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log((joint / p_z)[nz])))


def h_score(features: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """H-score (Bao et al. 2019): tr(cov(f)^+ cov(E[f | y])) of centred features.

    Shapes: features (N, D), labels (N,) -> float in [0, C - 1] (higher = more transferable).
    Both covariances are the biased (1/N) plug-in estimates, so in 1-D the score is exactly
    between-class variance / total variance. The pseudo-inverse (eigenvalues below 1e-10 of
    the largest dropped) makes rank-deficient cov(f) fine; the score is invariant to
    invertible linear maps of the features, in particular to scaling. Caveat: once the centred
    features have rank N - 1 (e.g. N <= D) every labelling is linearly separable and the score
    saturates at C - 1, so compare sources only with N well above D.
    """
    f = _features("features", features)
    y = _labels("labels", labels, f.shape[0])
    f = f - f.mean(axis=0)
    _, yi, counts = np.unique(y, return_inverse=True, return_counts=True)
    class_means = np.zeros((counts.size, f.shape[1]))
    np.add.at(class_means, yi, f)
    class_means /= counts[:, None]
    g = class_means[yi]  # E[f | y_i] for each example; already centred as f is
    n = f.shape[0]
    cov_f, cov_g = f.T @ f / n, g.T @ g / n
    if not np.any(cov_f):
        return 0.0  # constant features carry no information about y
    return float(np.trace(scipy.linalg.pinvh(cov_f, rtol=H_SCORE_RTOL) @ cov_g))


def knn_probe_accuracy(features: npt.ArrayLike, labels: npt.ArrayLike, k: int = 5) -> float:
    """Leave-one-out k-NN accuracy with cosine similarity (baseline estimator).

    Shapes: features (N, D) with no all-zero row, labels (N,); 1 <= k <= N - 1 -> float in
    [0, 1]. Each example votes with its k most similar other examples (equal similarities:
    lower index first); a vote tie goes to the class with the larger summed similarity, then
    to the lowest label. O(N^2) time, computed in row blocks to bound memory.
    """
    f = _features("features", features)
    n = f.shape[0]
    y = _labels("labels", labels, n)
    k = check_count("k", k)
    if k > n - 1:
        raise ValueError(f"k must be <= N - 1 = {n - 1} (leave-one-out), got {k}")
    norms = np.linalg.norm(f, axis=1)
    if np.any(norms == 0):
        raise ValueError("features has an all-zero row; cosine similarity is undefined for it")
    f = f / norms[:, None]
    _, yi = np.unique(y, return_inverse=True)  # order-preserving, so "lowest label" carries over
    n_classes = int(yi.max()) + 1
    correct = 0
    for start in range(0, n, 1024):
        rows = np.arange(start, min(start + 1024, n))
        sim = f[rows] @ f.T
        sim[np.arange(rows.size), rows] = -np.inf  # leave the example itself out
        nearest = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        votes = np.zeros((rows.size, n_classes))
        sim_sum = np.zeros((rows.size, n_classes))
        block = np.repeat(np.arange(rows.size), k)
        np.add.at(votes, (block, yi[nearest].ravel()), 1.0)
        np.add.at(sim_sum, (block, yi[nearest].ravel()), np.take_along_axis(sim, nearest, axis=1).ravel())
        tied = votes == votes.max(axis=1, keepdims=True)
        pred = np.argmax(np.where(tied, sim_sum, -np.inf), axis=1)  # argmax: first = lowest label
        correct += int(np.sum(pred == yi[rows]))
    return correct / n


# ------------------------------------------------------------- agreement with real gains


def _score_gain_pair(where: str, scores: npt.ArrayLike, gains: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    out = []
    for name, values in (("scores", scores), ("gains", gains)):
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(f"{where}{name} must be 2-D (n_seeds, n_sources) with >= 1 seed, got shape {arr.shape}")
        if np.any(np.isinf(arr)):
            raise ValueError(f"{where}{name} contains infinite values (NaN marks a missing run)")
        if arr.shape[1] and np.any(np.all(np.isnan(arr), axis=0)):
            raise ValueError(f"{where}{name} has a source with every seed missing (all NaN)")
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise ValueError(f"{where}scores and gains must have the same shape (matched seeds), "
                         f"got {out[0].shape} and {out[1].shape}")
    return out[0], out[1]


def _nanmean(x: FloatArray, axis: int) -> FloatArray:
    """np.nanmean without its warning: NaN where every entry is NaN."""
    count = np.sum(~np.isnan(x), axis=axis)
    total = np.nansum(x, axis=axis)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def _taus(score_means: FloatArray, gain_means: FloatArray) -> tuple[float, float]:
    """(Kendall tau-b, weighted tau) over sources with both means defined; NaN if < 2 or tied."""
    ok = ~(np.isnan(score_means) | np.isnan(gain_means))
    x, y = score_means[ok], gain_means[ok]
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return np.nan, np.nan  # tau is undefined for a constant ranking
    tau_b = _kendall_tau_b(x, y)
    # Two untied items: weighted tau is tau (one pair); skipping scipy keeps bootstraps fast.
    weighted = tau_b if x.size == 2 else float(scipy.stats.weightedtau(x, y).statistic)
    return tau_b, weighted


def _kendall_tau_b(x: FloatArray, y: FloatArray) -> float:
    """Kendall tau-b of (P,) vectors: sum sign(dx) sign(dy) / sqrt(untied-x pairs * untied-y pairs)
    over pairs i < j (equal to ``scipy.stats.kendalltau``; a few sources, so O(P^2) is cheap)."""
    upper = np.triu_indices(x.size, k=1)
    dx = np.sign(x[:, None] - x[None, :])[upper]
    dy = np.sign(y[:, None] - y[None, :])[upper]
    return float(np.sum(dx * dy) / np.sqrt(np.sum(dx != 0) * np.sum(dy != 0)))


def _boot_taus(scores: FloatArray, gains: FloatArray, draws: IntArray) -> FloatArray:
    """Both taus for each resample of seed rows; draws (B, S) -> (B, 2)."""
    score_means, gain_means = _nanmean(scores[draws], 1), _nanmean(gains[draws], 1)  # (B, P) each
    if scores.shape[1] == 2:  # vectorised: tau is the product of the two differences' signs
        dx = np.sign(score_means[:, 1] - score_means[:, 0])
        dy = np.sign(gain_means[:, 1] - gain_means[:, 0])
        tau = np.where((dx == 0) | (dy == 0) | np.isnan(dx) | np.isnan(dy), np.nan, dx * dy)
        return np.stack([tau, tau], axis=1)
    return np.array([_taus(sm, gm) for sm, gm in zip(score_means, gain_means, strict=True)]).reshape(-1, 2)


def _summary(point: Sequence[float], boot: FloatArray, level: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for j, name in enumerate(("kendall_tau", "weighted_tau")):
        finite = boot[:, j][~np.isnan(boot[:, j])]  # resamples with an undefined tau are dropped
        low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2]) if finite.size else (np.nan, np.nan)
        out |= {name: float(point[j]), f"{name}_low": float(low), f"{name}_high": float(high)}
    return out


def rank_agreement(
    scores: npt.ArrayLike, gains: npt.ArrayLike, rng: np.random.Generator, n_boot: int = 2000, level: float = 0.95
) -> dict[str, float]:
    """Does the estimator rank the candidate sources of one target like their real gains?

    Shapes: scores (S, P) estimator values, gains (S, P) transfer gains; row s of both comes
    from seed s (NaN = missing run, ignored by the seed means). Point estimates: Kendall tau-b
    and weighted tau (hyperbolic weights, emphasising the top of the ranking) between the
    seed-mean scores and seed-mean gains, via ``scipy.stats``. CI: percentile bootstrap that
    resamples seed rows (the same rows for scores and gains); resamples whose tau is
    undefined (a constant ranking) are dropped. With P < 2 every tau is NaN.

    Returns kendall_tau, kendall_tau_low, kendall_tau_high, weighted_tau, weighted_tau_low,
    weighted_tau_high, n_sources (P) and n_seeds (S).
    """
    rng = check_rng(rng)
    n_boot = check_count("n_boot", n_boot)
    level = check_probability_level("level", level)
    sc, ga = _score_gain_pair("", scores, gains)
    n_seeds, n_sources = sc.shape
    point = _taus(_nanmean(sc, 0), _nanmean(ga, 0))
    boot = _boot_taus(sc, ga, rng.integers(0, n_seeds, size=(n_boot, n_seeds)))
    return _summary(point, boot, level) | {"n_sources": n_sources, "n_seeds": n_seeds}


def mean_rank_agreement(
    groups: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    rng: np.random.Generator,
    n_boot: int = 2000,
    level: float = 0.95,
) -> dict[str, float]:
    """Mean over targets of :func:`rank_agreement`'s taus, with a stratified seed bootstrap.

    Shapes: groups is a list of G pairs (scores (S_g, P_g), gains (S_g, P_g)), one per target.
    Each resample draws seed rows within every group independently (targets are fixed, not
    resampled) and averages the groups' taus; groups whose tau is undefined (P_g < 2, or a
    constant ranking in that resample) are left out of that mean. Returns the keys of
    :func:`rank_agreement` plus n_groups; n_sources is the total over groups and n_seeds the
    smallest S_g (the group with the least seeds limits the interval most).
    """
    rng = check_rng(rng)
    n_boot = check_count("n_boot", n_boot)
    level = check_probability_level("level", level)
    if isinstance(groups, np.ndarray) or len(groups) == 0:
        raise ValueError("groups must be a non-empty list of (scores, gains) pairs, one per target")
    points, boots, n_sources, seeds = [], [], 0, []
    for g, pair in enumerate(groups):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"groups[{g}] must be a (scores, gains) pair")
        sc, ga = _score_gain_pair(f"groups[{g}] ", pair[0], pair[1])
        points.append(_taus(_nanmean(sc, 0), _nanmean(ga, 0)))
        boots.append(_boot_taus(sc, ga, rng.integers(0, sc.shape[0], size=(n_boot, sc.shape[0]))))
        seeds.append(sc.shape[0])
        n_sources += sc.shape[1]
    point = _nanmean(np.array(points, dtype=np.float64), 0)
    boot = _nanmean(np.stack(boots), 0)  # (G, B, 2) -> (B, 2)
    counts = {"n_sources": n_sources, "n_seeds": min(seeds), "n_groups": len(groups)}
    return _summary(list(point), boot, level) | counts
