"""Executors: who runs a suite's jobs, and where.

An :class:`Executor` receives the source models to train and the runs to execute, each run
naming the source model it needs, and hands every finished run back through ``on_result``.
It never writes files: the driver's store does, so a result folder need not be shared with
the workers. :class:`LocalExecutor` runs everything in this process, sources first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tqdm.auto import tqdm

from benchmark.runs.execute import RunJob, RunOutcome, SourceJob, execute_run
from benchmark.runs.suites import Suite
from benchmark.runs.workspace import Workspace

log = logging.getLogger(__name__)

OnResult = Callable[[RunJob, RunOutcome], None]


@dataclass(frozen=True)
class WorkspaceSpec:
    """How to build a :class:`Workspace` (picklable, so a remote worker can build its own)."""

    suite: Suite
    device: str = "cpu"
    cache_dir: Path | None = None

    def build(self) -> Workspace:
        return Workspace(self.suite, self.device, self.cache_dir)


class Executor(Protocol):
    """Runs jobs and reports each finished run; must train a run's source model before it."""

    def execute(self, workspace: WorkspaceSpec, sources: Sequence[SourceJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None: ...


class LocalExecutor:
    """Everything in this process, in order: the source models first, then the runs.

    ``workspace``: an already built workspace for the same suite to reuse (its in-memory data
    and states), e.g. the one the runner computed the run keys with."""

    def __init__(self, workspace: Workspace | None = None):
        self._workspace = workspace

    def execute(self, workspace: WorkspaceSpec, sources: Sequence[SourceJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        ws = self._workspace
        same = ws is not None and (ws.suite, ws.device, ws.cache_dir) == (
            workspace.suite, workspace.device, workspace.cache_dir)
        if ws is None or not same:
            ws = workspace.build()
        train_sources(ws, sources)
        bar = tqdm(runs, desc=f"suite {workspace.suite.name}", unit="run", disable=not runs)
        for job in bar:
            bar.set_postfix_str(job.run.label())
            on_result(job, execute_run(ws, job))


def train_sources(ws: Workspace, sources: Sequence[SourceJob]) -> None:
    """Train (or load) each source model once; a failure is logged and resurfaces, recorded,
    in every run that needs that model."""
    for job in tqdm(sources, desc="source models", unit="model", disable=not sources):
        try:
            ws.source_model(job.source, job.seed)
        except Exception as exc:
            log.error("source model %s seed=%d failed: %s", job.source, job.seed, exc)
