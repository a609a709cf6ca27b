"""Planning: a suite and filters become the list of runs to do. Pure: nothing is loaded or run."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmark.data.controls import is_control
from benchmark.errors import ConfigError, unknown_name
from benchmark.models.method import METHODS
from benchmark.runs.store import NO_SOURCE, RunId
from benchmark.runs.suites import Suite


@dataclass
class RunFilters:
    """Restrict a suite to some targets, methods or seeds; override hyperparameters."""

    tasks: list[str] | None = None
    methods: list[str] | None = None
    seeds: list[int] | None = None
    budgets: list[int] | None = None
    hyperparameters: list[str] = field(default_factory=list)
    retry_failed: bool = False
    #: auto | bf16 | fp32 for every protocol (None: each protocol's own, default auto).
    precision: str | None = None


def plan_runs(suite: Suite, filters: RunFilters) -> list[RunId]:
    """Every run of the suite after filters: per-target methods once, fusion methods per pair."""
    methods = filters.methods or list(suite.methods or METHODS.names())
    for m in methods:
        METHODS.get(m)
    known_targets = suite.targets()
    targets = filters.tasks or list(known_targets)
    for t in targets:
        if t not in known_targets:
            raise unknown_name("target task", t, known_targets, where=f"in suite {suite.name!r}")
    seeds = filters.seeds if filters.seeds is not None else list(suite.seeds)
    known = sorted({b for t in targets for b in suite.budgets(t)})
    for b in filters.budgets or []:
        if b not in known:
            raise ConfigError(f"--budgets {b}: suite {suite.name!r} has no target budget {b}; use one of {known}.")
    pairs = suite.pairs()
    runs: list[RunId] = []
    for target in targets:
        for budget in suite.budgets(target):
            if filters.budgets is not None and budget not in filters.budgets:
                continue
            sources = [s for s, t in pairs if t == target and (not is_control(s) or suite.runs_control_at(budget))]
            for seed in seeds:
                for m in methods:
                    if METHODS.get(m).is_fusion():
                        runs.extend(RunId(suite.name, target, m, s, budget, seed) for s in sources)
                    else:
                        runs.append(RunId(suite.name, target, m, NO_SOURCE, budget, seed))
    return runs
