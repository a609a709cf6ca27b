"""Ranking of the systems on one task with tie groups: rank intervals from pairwise tests.

Every pair of systems on a task is compared with the moderated crossed t test (one family
of K(K-1)/2 pairs, seed variance moderated among them); the p-values are Holm-adjusted, so
the probability of separating *any* two systems of equal true accuracy is at most alpha
(family-wise). A system's rank interval is

    rank_low  = 1 + number of systems significantly better,
    rank_high = K - number of systems significantly worse,

the ranks the data cannot rule out; systems it cannot separate (``tied_with``) have
overlapping intervals. ``benchmarks/bench_compare_ties.py`` checks the error rate by simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.compare.evaluations import TaskRuns

#: The correction of the ranking's pairwise family (family-wise error control).
RANK_CORRECTION = "holm"

#: Columns of ``ranking.csv`` and their meaning (docs/user-guide/compare.md).
RANKING_COLUMNS: dict[str, str] = {
    "task": "Task.",
    "system": "System.",
    "accuracy": "Mean accuracy over the system's seeds.",
    "n_seeds": "The system's seeds.",
    "rank": "Position by accuracy (1 = best; ties by name).",
    "rank_low": "Best rank the data allow: 1 + systems significantly better (Holm, alpha).",
    "rank_high": "Worst rank the data allow: K - systems significantly worse.",
    "tied_with": "Systems not separable from this one (';'-separated).",
}


@dataclass(frozen=True)
class Separation:
    """Pairwise results over K systems: pairs (P, 2) index pairs i < j, estimate (P,) =
    acc_i - acc_j, p_adj (P,) Holm-adjusted, separated (K, K) bool (symmetric)."""

    pairs: npt.NDArray[np.int64]
    estimate: npt.NDArray[np.float64]
    p_adj: npt.NDArray[np.float64]
    separated: npt.NDArray[np.bool_]


def separation(pairs: Sequence[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]], index: Sequence[tuple[int, int]],
               n_systems: int, alpha: float) -> Separation:
    """Pairwise crossed tests of K systems on one task.

    Shapes: pairs[p] = (correct_i (S_p, N), correct_j (S_p, N)) for index[p] = (i, j), i < j.
    All pairs are one family (seed variance moderated among them, one group: the task);
    p-values Holm-adjusted; separated[i, j] when p_adj < alpha.
    """
    tests = stats.crossed_family_test(list(pairs), threshold_alpha=alpha / max(1, len(pairs)),
                                      groups=["task"] * len(pairs))
    p_adj = stats.adjust_pvalues(np.array([t.p_value for t in tests], dtype=float), RANK_CORRECTION)
    idx = np.asarray(index, dtype=np.int64).reshape(-1, 2)
    sep = np.zeros((n_systems, n_systems), dtype=bool)
    hit = p_adj < alpha
    sep[idx[hit, 0], idx[hit, 1]] = True
    sep[idx[hit, 1], idx[hit, 0]] = True
    return Separation(idx, np.array([t.estimate for t in tests], dtype=float), p_adj, sep)


def rank_intervals(accuracy: npt.ArrayLike, separated: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], ...]:
    """(rank, rank_low, rank_high), each (K,), from accuracies (K,) and separated (K, K)."""
    acc = np.asarray(accuracy, dtype=float)
    sep = np.asarray(separated, dtype=bool)
    order = np.argsort(-acc, kind="stable")
    rank = np.empty(acc.size, dtype=np.int64)
    rank[order] = np.arange(1, acc.size + 1)
    better = (sep & (acc[None, :] > acc[:, None])).sum(axis=1)
    worse = (sep & (acc[None, :] < acc[:, None])).sum(axis=1)
    return rank, 1 + better, acc.size - worse


def ranking_table(runs: TaskRuns, alpha: float) -> pd.DataFrame:
    """The task's ranking, columns :data:`RANKING_COLUMNS`, sorted by rank."""
    systems = runs.systems()
    acc = np.array([float(np.mean(runs.matrix(s, runs.seeds(s)))) for s in systems])
    index, pairs = [], []
    for i, j in combinations(range(len(systems)), 2):
        seeds = runs.paired_seeds(systems[i], systems[j])
        if seeds:  # with one seed the test is NaN: not separated
            index.append((i, j))
            pairs.append((runs.matrix(systems[i], seeds), runs.matrix(systems[j], seeds)))
    sep = (separation(pairs, index, len(systems), alpha).separated if pairs
           else np.zeros((len(systems), len(systems)), dtype=bool))
    rank, low, high = rank_intervals(acc, sep)
    rows = [{"task": runs.task, "system": s, "accuracy": acc[k], "n_seeds": len(runs.seeds(s)),
             "rank": int(rank[k]), "rank_low": int(low[k]), "rank_high": int(high[k]),
             "tied_with": ";".join(systems[m] for m in range(len(systems)) if m != k and not sep[k, m])}
            for k, s in enumerate(systems)]
    return pd.DataFrame(rows, columns=list(RANKING_COLUMNS)).sort_values("rank", kind="stable").reset_index(drop=True)
