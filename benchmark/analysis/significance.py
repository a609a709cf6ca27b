"""Per-pair significance tests reported beside the verdict test, as rows of ``significance.csv``.

The verdict-driving test (the moderated crossed t test and its TOST) needs a whole family
of pairs and lives in :mod:`benchmark.analysis.transfer`. The tests here look at one pair
at a time. A new one is one function ``(pair) -> rows`` plus one entry in
:data:`PAIRED_TESTS`; its p-values form their own family per (suite, method, budget). Only tests
that are valid for what they claim belong here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmark.analysis import stats
from benchmark.analysis.schema import TEST_MCNEMAR, TEST_WILCOXON
from benchmark.runs.store import control_of

Row = dict[str, object]


@dataclass(frozen=True)
class PairSample:
    """A method's and the reference's correctness on one pair, paired by seed and by example.

    ``correct_method`` and ``correct_ref`` are (S, N) bool: row s is ``seeds[s]`` for both,
    column i the same test example (aligned by id).
    """

    suite: str
    method: str
    source: str
    target: str
    budget: int
    seeds: tuple[int, ...]
    correct_method: npt.NDArray[np.bool_]
    correct_ref: npt.NDArray[np.bool_]

    @property
    def n_examples(self) -> int:
        return int(self.correct_method.shape[1])

    def row(self, test: str, **values: object) -> Row:
        return {"suite": self.suite, "method": self.method, "source": self.source,
                "control": control_of(self.source), "target": self.target, "budget": self.budget, "test": test,
                "n_seeds": len(self.seeds), "n_examples": self.n_examples, **values}


def mcnemar_rows(pair: PairSample) -> list[Row]:
    """Exact McNemar per seed: a test about that seed's two trained models on this test set."""
    results = stats.mcnemar_per_seed(pair.correct_method, pair.correct_ref)
    return [pair.row(TEST_MCNEMAR, seed=s, n_seeds=1,
                     statistic=(res.n_method_only - res.n_ref_only) / pair.n_examples,
                     n_method_only=res.n_method_only, n_ref_only=res.n_ref_only, p_value=res.p_value)
            for s, res in zip(pair.seeds, results, strict=True)]


def wilcoxon_rows(pair: PairSample) -> list[Row]:
    """Wilcoxon signed-rank over per-seed accuracies: a test about these trained models on this
    test set (like McNemar), reported only from ``stats.MIN_SEEDS_WILCOXON`` (6) seeds, where
    its exact p can reach 0.05 (:func:`~benchmark.analysis.stats.wilcoxon_seeds` returns None
    below that)."""
    wil = stats.wilcoxon_seeds(stats.accuracies_from_correct(pair.correct_method),
                               stats.accuracies_from_correct(pair.correct_ref))
    return [] if wil is None else [pair.row(TEST_WILCOXON, statistic=wil.statistic, p_value=wil.p_value)]


#: The per-pair tests reported in ``significance.csv`` besides the verdict test.
PAIRED_TESTS: list[tuple[str, Callable[[PairSample], list[Row]]]] = [
    (TEST_MCNEMAR, mcnemar_rows),
    (TEST_WILCOXON, wilcoxon_rows),
]
