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

from benchmark.errors import EnvironmentFault, environment_cause
from benchmark.runs.execute import RunJob, RunOutcome, execute_run
from benchmark.runs.suites import Suite
from benchmark.runs.workspace import FitJob, Workspace

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
    """Runs jobs and reports each finished run; must make the fits a run needs before it.
    Progress is the caller's (``on_result``)."""

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None: ...


class LocalExecutor:
    """Everything in this process, in order: the shared fits first, then the runs.

    ``workspace``: an already built workspace for the same suite to reuse (its in-memory data
    and states), e.g. the one the runner computed the run keys with."""

    def __init__(self, workspace: Workspace | None = None):
        self._workspace = workspace

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        ws = self._workspace
        same = ws is not None and (ws.suite, ws.device, ws.cache_dir) == (
            workspace.suite, workspace.device, workspace.cache_dir)
        own = ws is None or not same
        if ws is None or not same:
            ws = workspace.build()
        try:
            train_fits(ws, fits)
            for job in runs:
                on_result(job, execute_run(ws, job))
        finally:
            if own:
                ws.close()


def train_fits(ws: Workspace, fits: Sequence[FitJob]) -> None:
    """Train (or load) each shared fit once; a failure is logged and resurfaces, recorded, in
    every run that needs that fit."""
    for job in tqdm(fits, desc="shared fits", unit="fit", disable=not fits):
        try:
            ws.fitted(job)
        except Exception as exc:
            if environment_cause(exc):  # the machine's fault: stop now (exit 4), not in every run
                raise EnvironmentFault(f"{environment_cause(exc)} (in fit {job.label()}); fix the machine, "
                                       "then rerun the same command (finished runs are kept)") from exc
            log.error("fit %s failed: %s", job.label(), exc)
