"""``RayExecutor``: a suite's jobs as Ray Core tasks (``run --executor ray``, ``pip install '.[ray]'``).

Each source model is an upstream task; a run that needs one receives its object reference
as an argument, so Ray schedules the run after it and hands it the weights (no ``ray.get``
inside a task, no shared disk needed). Tasks return predictions and records, and the driver
writes them through the store, so the results folder lives on the driver only and a worker
that dies never leaves a half-written run. A dying worker is retried (``max_retries``, Ray's
system-failure retries); a method that raises is a failed run, recorded like any other.
Resume is the store's content-keyed skip, as with the local executor.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch

from benchmark.errors import ConfigError
from benchmark.faults import fault_point
from benchmark.runs.execute import RunJob, RunOutcome, execute_run
from benchmark.runs.executor import OnResult, WorkspaceSpec
from benchmark.runs.manifest import RunManifest
from benchmark.runs.workspace import FitJob, Workspace

log = logging.getLogger(__name__)


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray, an optional extra: pip install '.[ray]' "
                          "(or run without --executor ray)") from None
    return ray


@dataclass(frozen=True)
class FitWeights:
    """What a fit task returns: the job, its weights on CPU, or the error that stopped it."""

    job: FitJob
    state: Mapping[str, torch.Tensor] | None
    error: str | None = None


_WORKSPACES: dict[tuple[str, str, str, str], Workspace] = {}


def worker_workspace(spec: WorkspaceSpec, threads: int) -> Workspace:
    """This worker process's workspace for ``spec``, built once. The suite travels whole,
    with the tasks it resolved (YAML tasks, controls) and the driver's precision, so the
    worker reads no suite file and registers nothing."""
    torch.set_num_threads(threads)
    key = (spec.suite.file, spec.suite.content_hash, spec.device, str(spec.cache_dir))
    if key not in _WORKSPACES:
        _WORKSPACES[key] = spec.build()
    return _WORKSPACES[key]


def train_fit(spec: WorkspaceSpec, job: FitJob, threads: int) -> FitWeights:
    """Ray task: train (or load from this node's cache) one shared fit."""
    ws = worker_workspace(spec, threads)
    fault_point("ray.source")
    try:
        model = ws.fitted(job)
    except Exception as exc:  # recorded in every run that needs it, as the local executor does
        return FitWeights(job, None, f"{type(exc).__name__}: {exc}")
    return FitWeights(job, {k: v.detach().cpu() for k, v in model.state_dict().items()})


def run_job(spec: WorkspaceSpec, job: RunJob, threads: int, *fits: FitWeights) -> RunOutcome:
    """Ray task: one run, given the weights of the fits it needs (resolved by Ray before it starts:
    they are top-level arguments)."""
    ws = worker_workspace(spec, threads)
    fault_point("ray.run")
    for fit in fits:
        if fit.state is not None:
            ws.adopt_fit(fit.job, fit.state)
    # A fit that failed upstream is tried once more here, so its error lands in the record.
    return execute_run(ws, job)


def lost_run(job: RunJob, error: str) -> RunOutcome:
    """The record of a run whose worker died more often than it was retried."""
    run = job.run
    return RunOutcome(None, RunManifest(
        suite=run.suite, target=run.target, source=run.source_task, method=run.method, budget=run.budget,
        seed=run.seed, key=job.key, status="failed", hyperparameters=dict(job.hyperparameters), error=error,
        timings={"wall_seconds": math.nan, "fit_seconds": 0.0, "predict_seconds": 0.0}))


class RayExecutor:
    """Runs a suite on a Ray cluster (``address``) or a local Ray runtime with ``num_workers`` CPUs.

    ``cpus_per_run`` / ``gpus_per_run`` are each task's resource request; ``threads_per_run``
    the torch threads of a task (default: ``cpus_per_run``; the driver's count reproduces the
    local executor's numbers bit for bit); ``max_retries``: how often a task whose worker
    died is retried.
    """

    def __init__(self, address: str | None = None, num_workers: int | None = None, *,
                 cpus_per_run: float = 1.0, gpus_per_run: float = 0.0, threads_per_run: int | None = None,
                 max_retries: int = 2):
        if num_workers is not None and num_workers < 1:
            raise ConfigError(f"--num-workers must be at least 1, got {num_workers}")
        self.address, self.num_workers = address, num_workers
        self.cpus_per_run, self.gpus_per_run, self.max_retries = cpus_per_run, gpus_per_run, max_retries
        self.threads_per_run = threads_per_run or max(1, int(cpus_per_run))

    def _init(self, ray: ModuleType) -> None:
        if ray.is_initialized():
            return
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if self.address is not None:
            ray.init(address=self.address, **options)
        else:
            ray.init(num_cpus=self.num_workers, **options)

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        ray = import_ray()
        self._init(ray)
        resources = {"num_cpus": self.cpus_per_run, "num_gpus": self.gpus_per_run, "max_retries": self.max_retries}
        fit_task = ray.remote(**resources)(train_fit)
        run_task = ray.remote(**resources)(run_job)
        threads = self.threads_per_run
        fit_refs = {job: fit_task.remote(workspace, job, threads) for job in fits}
        pending = {run_task.remote(workspace, job, threads, *[fit_refs[n] for n in job.needs if n in fit_refs]): job
                   for job in runs}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker died more than max_retries times
                        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                        log.error("run lost: %s: %s", job.run.label(), first)
                        outcome = lost_run(job, f"{type(exc).__name__}: {first}")
                    on_result(job, outcome)
        finally:  # an interrupted driver leaves no work running on the cluster
            for ref in pending:
                ray.cancel(ref, force=True)
