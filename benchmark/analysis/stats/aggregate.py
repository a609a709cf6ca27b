"""Per-method aggregates over transfer pairs, after rliable (Agarwal et al. 2021).

"Scores" here are typically per-seed transfer gains (or accuracies), one 1-D array per
stratum (a transfer pair or a task). Shapes: P = strata, S_p = runs (seeds) in stratum p.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import scipy.stats

from benchmark.analysis.stats._validation import (
    FloatArray,
    check_choice,
    check_count,
    check_probability_level,
    check_rng,
)

#: A set of scores: one array (any shape, flattened), or one 1-D array per stratum.
Scores = npt.ArrayLike | Sequence[npt.ArrayLike]

#: NaN policies accepted by :func:`mean_rank`.
NAN_POLICIES: tuple[str, ...] = ("worst", "omit", "raise")


def _flatten_scores(name: str, scores: Scores) -> FloatArray:
    """All scores as one finite 1-D float array. Ragged lists of arrays are concatenated."""
    try:
        if isinstance(scores, list | tuple):
            parts = [np.ravel(np.asarray(part, dtype=np.float64)) for part in scores]
            flat = np.concatenate(parts) if parts else np.empty(0)
        else:
            flat = np.ravel(np.asarray(scores, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (an array or a list of 1-D arrays)") from None
    if flat.size == 0:
        raise ValueError(f"{name} is empty; need at least one score")
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{name} contains NaN or infinite values; drop missing runs first")
    return flat


def iqm(x: Scores) -> float:
    """Interquartile mean: the mean of the middle 50% of all scores.

    Shape: any array (flattened) or a list of 1-D arrays (concatenated) -> float.
    Equals ``scipy.stats.trim_mean(x.ravel(), 0.25)``, rliable's IQM: floor(n / 4) scores are
    cut from each end of the sorted scores.
    """
    return float(scipy.stats.trim_mean(_flatten_scores("x", x), 0.25))


def pooled_mean(x: Scores) -> float:
    """Mean of all scores pooled (rliable's "mean"). Shape: like :func:`iqm` -> float."""
    return float(np.mean(_flatten_scores("x", x)))


def mean_of_means(strata: Sequence[npt.ArrayLike]) -> float:
    """Mean over strata of each stratum's mean (every pair weighs the same, whatever its
    number of seeds). Shape: list of P 1-D arrays -> float."""
    if len(strata) == 0:
        raise ValueError("strata is empty; need at least one stratum")
    return float(np.mean([np.mean(_flatten_scores("stratum", s)) for s in strata]))


def stratified_bootstrap_ci(
    scores: Sequence[npt.ArrayLike],
    statistic: Callable[[list[FloatArray]], float],
    *,
    rng: np.random.Generator,
    n_resamples: int = 2000,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Percentile CI of an aggregate, resampling runs within each stratum (rliable).

    Shapes: scores is a list of P 1-D arrays (stratum p holds S_p runs, e.g. the per-seed
    gains of transfer pair p); ``statistic`` takes such a list (same lengths) and returns a
    float (e.g. :func:`iqm`, :func:`pooled_mean`, :func:`mean_of_means`).

    Each replicate draws S_p runs with replacement inside every stratum p, so every stratum
    keeps its size and weight; strata themselves are not resampled (they are the fixed set of
    pairs). Returns (estimate, low, high): statistic on the data and the (1 - confidence)/2,
    (1 + confidence)/2 quantiles of the B replicate statistics.
    """
    rng = check_rng(rng)
    n_resamples = check_count("n_resamples", n_resamples)
    confidence = check_probability_level("confidence", confidence)
    if isinstance(scores, np.ndarray) or len(scores) == 0:
        raise ValueError("scores must be a non-empty list of 1-D arrays, one per stratum")
    strata: list[FloatArray] = []
    for p, part in enumerate(scores):
        arr = np.asarray(part, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"scores[{p}] must be a non-empty 1-D array, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"scores[{p}] contains NaN or infinite values")
        strata.append(arr)
    estimate = float(statistic(strata))
    draws = [rng.integers(0, arr.size, size=(n_resamples, arr.size)) for arr in strata]
    replicates = np.empty(n_resamples, dtype=np.float64)
    for b in range(n_resamples):
        replicates[b] = statistic([arr[idx[b]] for arr, idx in zip(strata, draws, strict=True)])
    if not np.all(np.isfinite(replicates)):
        raise ValueError("statistic returned NaN or infinite values on a bootstrap replicate")
    low, high = np.quantile(replicates, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return estimate, float(low), float(high)


def _per_task(name: str, scores: Scores) -> list[FloatArray]:
    """Scores split into tasks: a 2-D ndarray is (runs, tasks) as in rliable; a 1-D array is
    one task; a list/tuple whose items are all arrays is one 1-D array per task."""
    if isinstance(scores, list | tuple) and scores and all(np.ndim(t) >= 1 for t in scores):
        tasks = [np.ravel(np.asarray(t, dtype=np.float64)) for t in scores]
    else:
        arr = np.asarray(scores, dtype=np.float64)
        if arr.ndim == 1:
            tasks = [arr]
        elif arr.ndim == 2:
            tasks = [arr[:, t] for t in range(arr.shape[1])]
        else:
            raise ValueError(f"{name} must be (n_runs, n_tasks) or a list of 1-D arrays")
    if not tasks or any(t.size == 0 for t in tasks):
        raise ValueError(f"{name} is empty or has a task without runs")
    if not all(np.all(np.isfinite(t)) for t in tasks):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tasks


def probability_of_improvement(scores_x: Scores, scores_y: Scores) -> float:
    """Average probability of improvement of X over Y (rliable).

    Shapes: scores_x and scores_y are (n_runs, n_tasks) arrays (run counts may differ
    between X and Y), a 1-D array for one task, or lists of T 1-D arrays, one per task.

    For each task, P(X > Y) + 0.5 P(X = Y) over all (x run, y run) pairs, i.e. the
    Mann-Whitney U statistic of X divided by n_x n_y; then the mean over tasks.
    """
    tasks_x = _per_task("scores_x", scores_x)
    tasks_y = _per_task("scores_y", scores_y)
    if len(tasks_x) != len(tasks_y):
        raise ValueError(
            f"scores_x and scores_y must cover the same tasks, got {len(tasks_x)} and "
            f"{len(tasks_y)} tasks"
        )
    probs = []
    for x, y in zip(tasks_x, tasks_y, strict=True):
        y_sorted = np.sort(y)
        below = np.searchsorted(y_sorted, x, side="left")  # #{y < x} per x run
        at_or_below = np.searchsorted(y_sorted, x, side="right")  # #{y <= x}
        wins = below.sum() + 0.5 * (at_or_below - below).sum()
        probs.append(wins / (x.size * y.size))
    return float(np.mean(probs))


def mean_rank(
    score_matrix: npt.ArrayLike, nan_policy: str = "worst", higher_is_better: bool = True
) -> FloatArray:
    """Mean rank of each method across tasks; rank 1 is the best, ties get average ranks.

    Shape: score_matrix (n_methods, n_tasks) -> (n_methods,).

    NaN (a missing result) per ``nan_policy``:
    - ``"worst"`` (default): a missing result ranks below every present one on that task
      (missing results tie among themselves), so a method cannot improve its rank by failing.
    - ``"omit"``: the task is ranked among the methods that have a result and the method's
      mean skips it (NaN if it has no result at all); beware that ranks among fewer methods
      are smaller, so this favours methods that miss hard tasks.
    - ``"raise"``: a NaN raises ValueError.
    """
    policy = check_choice("nan_policy", nan_policy, NAN_POLICIES)
    try:
        scores = np.asarray(score_matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("score_matrix must be a 2-D array of numbers") from None
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(
            f"score_matrix must be a non-empty (n_methods, n_tasks) array, got shape {scores.shape}"
        )
    if np.any(np.isinf(scores)):
        raise ValueError("score_matrix contains infinite values")
    missing = np.isnan(scores)
    if policy == "raise" and np.any(missing):
        raise ValueError("score_matrix contains NaN (missing results) and nan_policy='raise'")
    loss = -scores if higher_is_better else scores.copy()  # lower loss = better = rank 1
    if policy == "worst":
        loss[missing] = np.inf
        ranks = scipy.stats.rankdata(loss, method="average", axis=0)
        return np.asarray(ranks.mean(axis=1), dtype=np.float64)
    ranks = scipy.stats.rankdata(loss, method="average", axis=0, nan_policy="omit")
    ranks = np.where(missing, 0.0, ranks)
    present = (~missing).sum(axis=1)
    return np.divide(
        ranks.sum(axis=1), present, out=np.full(scores.shape[0], np.nan), where=present > 0
    )


def fast_iqm(strata: list[npt.NDArray[np.float64]]) -> float:
    """iqm of the pooled scores (scipy ``trim_mean(x, 0.25)``) without scipy's
    per-call overhead, for use inside a bootstrap loop. Same value as iqm."""
    x = np.sort(np.concatenate(strata))
    cut = int(0.25 * x.size)
    return float(np.mean(x[cut:x.size - cut]))
