"""Run (or resume) a suite: plan, check, key, skip what is done, hand the rest to an executor,
and write what comes back through the store. Leaderboards and the report are not built here
(the CLI chains them)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from benchmark import paths
from benchmark.errors import BenchmarkError, ConfigError, DataError, EnvironmentFault
from benchmark.faults import fault_point
from benchmark.fingerprint import content_hash
from benchmark.models.method import Method, make_method, parse_overrides
from benchmark.runs.execute import RunJob, RunOutcome
from benchmark.runs.executor import Executor, LocalExecutor, WorkspaceSpec
from benchmark.runs.keys import run_code_version
from benchmark.runs.layout import ResultsLayout
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.progress import RunProgress, format_seconds
from benchmark.runs.store import RunId, RunStore, plan_path
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.suites import Suite
from benchmark.runs.workspace import FitJob, Workspace

log = logging.getLogger(__name__)


@dataclass
class Summary:
    n_planned: int = 0
    n_skipped: int = 0
    n_ok: int = 0
    n_failed: int = 0
    #: Of the runs already done, how many are recorded failed (a plain ``run`` keeps them).
    n_skipped_failed: int = 0
    wall_seconds: float = 0.0
    precision: str = ""
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        done_failed = (f" ({self.n_skipped_failed} of them recorded failed: --retry-failed reruns them)"
                       if self.n_skipped_failed else "")
        text = (f"{self.n_planned} runs: {self.n_ok} ran, {self.n_skipped} already done{done_failed}, "
                f"{self.n_failed} failed (precision {self.precision}, {format_seconds(self.wall_seconds)} wall)")
        if self.failed:
            text += "; failed: " + "; ".join(self.failed[:5]) + (" ..." if len(self.failed) > 5 else "")
        return text


def run_key(ws: Workspace, run: RunId, method: Method) -> str:
    """Content key of a run: protocol, backbone, hyperparameters, data subsample, code."""
    rt = ws.resolve(run.target)
    data: dict[str, str | list[str]] = {"target": ws.fingerprint(run.target, run.seed, "target", run.budget)}
    sources = [ws.fingerprint(s, run.seed, "source") for s in run.sources]
    if sources:
        # One source keeps the key it had before groups (a string), so finished pairs stay finished.
        data["source"] = sources[0] if len(sources) == 1 else sources
    tasks = [ws.suite.task(t) for t in (run.target, *run.sources)]
    return content_hash({"spec": [run.suite, run.target, run.method, run.source_task, run.budget, run.seed],
                         "backbone": rt.backbone.identity(), "protocol": rt.protocol.to_dict(),
                         "hyperparameters": method.hyperparameters(), "data": data,
                         "code": run_code_version(type(method), tasks)})


def make_job(ws: Workspace, run: RunId, key: str, method: Method) -> RunJob:
    """The job of ``run`` with the reference fits it needs: its source models (one per source
    task, shared with every run of that source and seed), and its target's reference fit when
    its method starts from it or the run is that fit itself."""
    sources = tuple(FitJob(s, run.seed) for s in run.sources) if type(method).needs_source else ()
    serves = ws.serves_reference_fit(run, method)
    target = FitJob(run.target, run.seed, "target", run.budget) if serves or type(method).needs_reference_fit else None
    return RunJob(run, key, method.hyperparameters(), sources, target, serves_fit=serves)


def shared_fits(ws: Workspace, jobs: list[RunJob]) -> tuple[list[RunJob], list[FitJob]]:
    """One job per distinct fit the runs need, in a stable order, and the runs with their needs
    named by those jobs (jobs with one content key are one fit: e.g. a target draw equal to the
    source draw), so an executor can match a run to its fits by the job alone."""
    by_key: dict[str, FitJob] = {}
    for job in jobs:
        for need in job.needs:
            by_key.setdefault(ws.fit_key(need), need)
    def one(fit: FitJob | None) -> FitJob | None:
        return by_key[ws.fit_key(fit)] if fit is not None else None

    def pool(fits: tuple[FitJob, ...]) -> tuple[FitJob, ...]:
        return tuple(by_key[ws.fit_key(f)] for f in fits)

    runs = [dataclasses.replace(job, source_fits=pool(job.source_fits), target_fit=one(job.target_fit))
            for job in jobs]
    return runs, sorted(by_key.values(), key=lambda j: (j.task, j.seed, j.role, j.budget or 0))


def _check_available(suite: Suite, runs: list[RunId]) -> None:
    for name in sorted({r.target for r in runs} | {s for r in runs for s in r.sources}):
        task = suite.task(name)
        if not task.available:
            _, reasons = task.availability()
            raise BenchmarkError(f"task {name!r} is unavailable: {reasons[0] if reasons else '?'}; "
                                 "run bash scripts/setup.sh or filter it out with --tasks")


def check_device(device: str) -> None:
    """Raise :class:`EnvironmentFault` unless torch can put a tensor on ``device`` here."""
    try:
        torch.device(device)
    except RuntimeError:
        raise EnvironmentFault(f"device {device!r} is not a torch device; pass --device cuda on a machine "
                               "with an NVIDIA GPU, or --device cpu") from None
    try:
        torch.empty(1, device=device)
    except Exception as exc:  # torch raises RuntimeError, AssertionError or NotImplementedError
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise EnvironmentFault(f"device {device!r} cannot be used on this machine ({why}); pass --device cpu, "
                               "or run on a machine that has that device") from None


def check_machine(device: str, cache_dir: Path | None = None) -> None:
    """Before any work: the device exists and the cache folder can be written (exit 4 otherwise)."""
    check_device(device)
    paths.check_writable(cache_dir)


def check_run_folders(results_dir: str | Path, suite: str, runs: Sequence[RunId]) -> None:
    """Refuse (before any work) a results folder where the suite's folder or a run's folder,
    or one on its path, is a symbolic link or resolves outside the results folder: writing
    through it could write one run over another. Nothing is deleted: a link may be deliberate."""
    root = Path(results_dir)
    store = RunStore(root)
    for folder in [plan_path(root, suite).parent, *(store.run_dir(r) for r in runs)]:
        problem = paths.link_problem(root, folder)
        if problem:
            raise DataError(f"{problem}; run never writes through a link into the results folder: replace "
                            "it with a real folder (rm the link, or copy its target in its place), then rerun")


def check_run(suite_name: str, results_dir: str | Path, filters: RunFilters,
              max_seeds: int | None = None) -> list[RunId]:
    """Everything about a run's input that can be wrong, checked before any lock, plan or
    training: the suite, the filters and overrides, the tasks' availability, that the results
    folder's ``runs/<name>/`` is not another suite's, and ``--max-seeds`` (0 must not read as
    "the default"). Returns the planned runs."""
    suite = get_suite(suite_name)
    first = len(filters.seeds if filters.seeds is not None else suite.seeds)
    if max_seeds is not None and max_seeds <= first:
        raise ConfigError(f"--max-seeds {max_seeds} must exceed the {first} planned seeds; e.g. --max-seeds "
                          f"{first + 3}.")
    return _check(suite, Path(results_dir), filters)


def _check(suite: Suite, results_dir: Path, filters: RunFilters) -> list[RunId]:
    runs = plan_runs(suite, filters)  # filters, seeds and --hp overrides are checked here
    _check_available(suite, runs)
    _check_same_suite(suite, results_dir)
    return runs


def _check_same_suite(suite: Suite, results_dir: Path) -> None:
    """Refuse a suite whose name another suite file already used in this results folder: both
    would write runs/<name>/ and mix their runs in one table. The same file (edited: runs are
    keyed by content) or a copy of it (same content hash) is the same suite."""
    folder = ResultsLayout.of(results_dir).suite_dir(suite.name)
    for path in sorted(folder.glob(f"**/{ResultsLayout.RUN_FILENAME}")) if folder.is_dir() else []:
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # an unreadable run is the store's to report, not a collision
        other, other_hash = found.get("suite_file"), found.get("suite_hash")
        if other and suite.file and other != suite.file and other_hash != suite.content_hash:
            raise ConfigError(f"suite {suite.name!r} from {suite.file}: {results_dir} already holds runs of another "
                              f"suite file with that name ({other}); rename the suite (its 'name:') or pass "
                              "another --results.")


def run_suite(suite_name: str = "default", results_dir: str | Path = "results",
              filters: RunFilters | None = None, device: str = "cpu", cache_dir: Path | None = None,
              executor: Executor | None = None, runs: Sequence[RunId] | None = None,
              plan: Sequence[RunId] | None = None) -> Summary:
    """Run the suite's runs that are not finished yet and store what they produce.

    ``runs``: run exactly these (default: the suite's plan after ``filters``); ``plan``: what
    ``plan.json`` records as planned (default: ``runs``), so runs that never finish count as
    missing.
    """
    filters = filters or RunFilters()
    suite = get_suite(suite_name)
    overrides = parse_overrides(filters.hyperparameters)
    planned = _check(suite, Path(results_dir), filters)  # before plan.json: bad input leaves nothing
    if runs is not None:  # runs given explicitly (sequential seeds): _check covered only the plan
        _check_available(suite, list(runs))
    runs = list(runs) if runs is not None else planned
    check_run_folders(results_dir, suite.name, list(plan or []) + runs)
    check_machine(device, cache_dir)
    suite = suite.with_precision(filters.precision, device)  # after the checks: bad input fails first
    store = RunStore(results_dir)
    store.write_plan(suite.name, list(plan) if plan is not None else runs, suite.roles)
    methods = {m: make_method(m, overrides.get(m)) for m in sorted({r.method for r in runs})}
    spec = WorkspaceSpec(suite, device, cache_dir)
    ws = spec.build()  # keys need the data fingerprints; the local executor builds its own
    summary = Summary(n_planned=len(runs), precision=precision_label(suite))
    jobs: list[RunJob] = []
    for run in runs:
        method = methods[run.method]
        key = run_key(ws, run, method)
        if store.is_finished(run, key, filters.retry_failed):
            summary.n_skipped += 1
            summary.n_skipped_failed += store.recorded_failed(run)
        else:
            jobs.append(make_job(ws, run, key, method))
    if jobs:
        log.info("%d of %d runs to do (%d already done)", len(jobs), len(runs), summary.n_skipped)
    # Reference fits first: shared by every fusion method of their seed and by target_only.
    jobs, fits = shared_fits(ws, jobs)

    progress = RunProgress([_kind(ws, j.run) for j in jobs], summary.n_skipped, len(runs),
                           f"suite {suite.name} ({precision_label(suite)})")

    def on_result(job: RunJob, outcome: RunOutcome) -> None:
        # Provenance: which suite file (and which version of it) asked for this run.
        store.write_run(job.run, outcome.predictions,
                        outcome.manifest.replace(suite_file=suite.file, suite_hash=suite.content_hash))
        fault_point("runner.after_run")
        if outcome.ok:
            summary.n_ok += 1
        else:
            summary.n_failed += 1
            summary.failed.append(f"{job.run.label()}: {outcome.manifest.error}")
        seconds = outcome.manifest.timings.get("wall_seconds", float("nan"))
        progress.done(_kind(ws, job.run), seconds, job.run.label())

    t0 = time.perf_counter()
    try:
        (executor or LocalExecutor(ws)).execute(spec, fits, jobs, on_result)
    finally:
        progress.close()
        ws.close()
    summary.wall_seconds = time.perf_counter() - t0
    return summary


def _kind(ws: Workspace, run: RunId) -> tuple[str, str, int]:
    """What a run's cost depends on most: its input family, method and target budget."""
    return ws.resolve(run.target).task.family, run.method, run.budget


def precision_label(suite: Suite) -> str:
    """``bf16`` when every protocol runs at bf16, else ``text fp32, image bf16``."""
    found = suite.precisions()
    if len(set(found.values())) == 1:
        return next(iter(found.values()))
    return ", ".join(f"{family} {p}" for family, p in sorted(found.items()))
