"""Identities: a run (:class:`RunId`) and the pair of runs it is a seed of (:class:`PairKey`)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.runs.groups import split_source_set
from benchmark.runs.layout import NO_SOURCE


@dataclass(frozen=True, order=True)
class PairKey:
    """One comparison: a method from ``source`` into ``target`` at a train budget, in a suite;
    its runs are its seeds. ``source`` is ``-`` for a per-target method, else a source set's
    name (a task's name, or ``a+b`` for a fusion group: :func:`~benchmark.runs.groups.source_set`).
    Sorted by field order."""

    suite: str
    method: str
    source: str
    target: str
    budget: int

    def with_method(self, method: str, source: str = NO_SOURCE) -> PairKey:
        """The same target and budget for another method (by default one with no source: the reference)."""
        return PairKey(self.suite, method, source, self.target, self.budget)

    def label(self) -> str:
        return f"{self.suite}/{self.target}/{self.method}/{self.source}/budget={self.budget}"


@dataclass(frozen=True, order=True)
class RunId:
    """Identity of one run: (suite, target, method, source, budget, seed). ``source`` is ``-``
    for none, else the name of its source set (one task's name, or ``a+b`` for a group of
    sources; for a merge-all group, the whole group, target included); ``budget`` is the
    number of target training examples the run's draw has."""

    suite: str
    target: str
    method: str
    source: str
    budget: int
    seed: int

    @property
    def source_task(self) -> str | None:
        """The source set's name (a task's name for a pair), or None for per-target methods."""
        return None if self.source == NO_SOURCE else self.source

    @property
    def sources(self) -> tuple[str, ...]:
        """The source tasks, sorted: ``()`` for per-target methods, one for a pair, K for a group."""
        return () if self.source == NO_SOURCE else split_source_set(self.source)

    @property
    def merges_all(self) -> bool:
        """Whether this is a run of a merge-all group: its source set is the whole group, the
        target included (a many -> one group's never holds its target)."""
        return self.target in self.sources

    @property
    def pair(self) -> PairKey:
        """The (method, source → target, budget) comparison this run is a seed of."""
        return PairKey(self.suite, self.method, self.source, self.target, self.budget)

    def label(self) -> str:
        return f"{self.method} {self.source_task or '∅'}→{self.target} budget={self.budget} seed={self.seed}"
