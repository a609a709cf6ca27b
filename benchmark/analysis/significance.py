"""Paired significance tests of a transfer pair, as rows of ``significance.csv``.

A new paired test is one function ``(pair, settings) -> rows`` plus one entry in
:data:`PAIRED_TESTS`; the rows name their test, and each test's p-values form their own
family for the multiple-comparison adjustment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmark.analysis import stats
from benchmark.analysis.collect import pair_rng
from benchmark.analysis.schema import CONFIDENCE, TEST_BOOTSTRAP, TEST_MCNEMAR, TEST_SIGN_FLIP, TEST_WILCOXON

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
    seeds: tuple[int, ...]
    correct_method: npt.NDArray[np.bool_]
    correct_ref: npt.NDArray[np.bool_]

    @property
    def n_examples(self) -> int:
        return int(self.correct_method.shape[1])

    def rng(self, seed: int, test: str) -> np.random.Generator:
        """This pair's own generator for ``test``: independent of every other pair."""
        return pair_rng(seed, self.suite, self.method, self.source, self.target, test)

    def row(self, test: str, **values: object) -> Row:
        return {"suite": self.suite, "method": self.method, "source": self.source, "target": self.target,
                "test": test, "n_seeds": len(self.seeds), "n_examples": self.n_examples, **values}


@dataclass(frozen=True)
class TestSettings:
    n_resamples: int
    seed: int


def bootstrap_rows(pair: PairSample, settings: TestSettings) -> list[Row]:
    boot = stats.hierarchical_bootstrap(pair.correct_method, pair.correct_ref,
                                        rng=pair.rng(settings.seed, TEST_BOOTSTRAP),
                                        n_resamples=settings.n_resamples, confidence=CONFIDENCE)
    return [pair.row(TEST_BOOTSTRAP, statistic=boot.estimate, n_resamples=boot.n_resamples,
                     p_value=boot.p_value, ci_low=boot.ci_low, ci_high=boot.ci_high)]


def sign_flip_rows(pair: PairSample, settings: TestSettings) -> list[Row]:
    flip = stats.sign_flip_test(pair.correct_method, pair.correct_ref,
                                rng=pair.rng(settings.seed, TEST_SIGN_FLIP), n_permutations=settings.n_resamples)
    return [pair.row(TEST_SIGN_FLIP, statistic=flip.statistic, n_resamples=flip.n_permutations,
                     p_value=flip.p_value)]


def mcnemar_rows(pair: PairSample, settings: TestSettings) -> list[Row]:
    results = stats.mcnemar_per_seed(pair.correct_method, pair.correct_ref)
    return [pair.row(TEST_MCNEMAR, seed=s, n_seeds=1,
                     statistic=(res.n_method_only - res.n_ref_only) / pair.n_examples,
                     n_method_only=res.n_method_only, n_ref_only=res.n_ref_only, p_value=res.p_value)
            for s, res in zip(pair.seeds, results, strict=True)]


def wilcoxon_rows(pair: PairSample, settings: TestSettings) -> list[Row]:
    wil = stats.wilcoxon_seeds(stats.accuracies_from_correct(pair.correct_method),
                               stats.accuracies_from_correct(pair.correct_ref))
    return [] if wil is None else [pair.row(TEST_WILCOXON, statistic=wil.statistic, p_value=wil.p_value)]


#: Every test reported in ``significance.csv``, in file order; the first drives the verdict.
PAIRED_TESTS: list[tuple[str, Callable[[PairSample, TestSettings], list[Row]]]] = [
    (TEST_BOOTSTRAP, bootstrap_rows),
    (TEST_SIGN_FLIP, sign_flip_rows),
    (TEST_MCNEMAR, mcnemar_rows),
    (TEST_WILCOXON, wilcoxon_rows),
]
