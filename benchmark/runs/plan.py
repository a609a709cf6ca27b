"""Planning: a suite and filters become the list of runs to do. Pure: nothing is loaded or run."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmark.data.controls import is_control
from benchmark.errors import unknown_name
from benchmark.models.method import METHODS
from benchmark.runs.store import NO_SOURCE, RunId
from benchmark.runs.suites import Suite


@dataclass
class RunFilters:
    """Restrict a suite to some targets, methods or seeds; override hyperparameters."""

    tasks: list[str] | None = None
    methods: list[str] | None = None
    seeds: list[int] | None = None
    hyperparameters: list[str] = field(default_factory=list)
    retry_failed: bool = False


def plan_runs(suite: Suite, filters: RunFilters) -> list[RunId]:
    """Every run of the suite after filters: per-target methods once, fusion methods per pair."""
    methods = filters.methods or list(suite.methods or METHODS.names())
    for m in methods:
        METHODS.get(m)
    targets = filters.tasks or list(suite.tasks)
    for t in targets:
        if t not in suite.tasks:
            raise unknown_name("task", t, suite.tasks, where=f"in suite {suite.name!r}")
    seeds = filters.seeds if filters.seeds is not None else list(suite.seeds)
    pairs = suite.pairs()
    runs: list[RunId] = []
    for target in targets:
        for budget in suite.budgets(target):
            sources = [s for s, t in pairs if t == target and (not is_control(s) or suite.runs_control_at(budget))]
            for seed in seeds:
                for m in methods:
                    if METHODS.get(m).needs_source:
                        runs.extend(RunId(suite.name, target, m, s, budget, seed) for s in sources)
                    else:
                        runs.append(RunId(suite.name, target, m, NO_SOURCE, budget, seed))
    return runs
