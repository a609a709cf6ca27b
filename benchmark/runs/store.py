"""The run store: one run's identity, where it lives on disk, how it is written and read.

Layout::

    <results>/runs/<suite>/plan.json
    <results>/runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>/run.json
    <results>/runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>/predictions.parquet

``b`` is the target's train budget (the low-data axis).

``run.json`` is written last, so a run folder without it is an *interrupted* run and
counts as missing. A failed run has ``run.json`` with ``"status": "failed"`` and no
predictions. Every write is atomic (:mod:`benchmark.files`), so a reader never sees a
half-written file.

The runner writes through :class:`RunStore`; the leaderboard builder reads with
:func:`scan_runs`, :func:`load_plan` and :meth:`RunRecord.predictions`. Nothing here
trains or computes statistics.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from benchmark.data.controls import expected_direction
from benchmark.errors import BenchmarkError
from benchmark.faults import fault_point
from benchmark.files import atomic_write_json, atomic_write_parquet
from benchmark.paths import link_problem
from benchmark.runs.ids import PairKey as PairKey  # re-exported: the store is where readers look
from benchmark.runs.ids import RunId
from benchmark.runs.integrity import files_linked, predictions_problem
from benchmark.runs.integrity import identity_problem as identity_problem  # re-exported
from benchmark.runs.layout import NO_SOURCE as NO_SOURCE  # re-exported
from benchmark.runs.layout import ResultsLayout, source_dirname
from benchmark.runs.manifest import RunManifest
from benchmark.runs.roles import Roles

log = logging.getLogger(__name__)

RUN_FILENAME = ResultsLayout.RUN_FILENAME
PREDICTIONS_FILENAME = ResultsLayout.PREDICTIONS_FILENAME
PREDICTION_COLUMNS = ("id", "label", "prediction", "correct", "probabilities")


def control_of(source: str) -> str:
    """``positive`` / ``negative`` (the expected direction) for a control source such as
    ``T~more``, ``""`` for a real source task or ``-``."""
    return expected_direction(source)


Status = Literal["ok", "failed", "missing"]



def run_dir(
    results_dir: str | os.PathLike[str],
    suite: str,
    target: str,
    method: str,
    source: str | None,
    budget: int,
    seed: int,
) -> Path:
    """Folder of one run: ``<results>/runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>``."""
    return ResultsLayout.of(results_dir).run_dir(suite, target, method, source, budget, seed)


def plan_path(results_dir: str | os.PathLike[str], suite: str) -> Path:
    """Path of a suite's ``plan.json``."""
    return ResultsLayout.of(results_dir).plan(suite)


def load_sequential_designs(results_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Suite -> its ``sequential.json`` (first_seeds, max_seeds, weights), for suites run with
    ``--until-decided``. A malformed file is an error: the p-values depend on it."""
    out: dict[str, dict[str, Any]] = {}
    for suite in suites(results_dir):
        path = ResultsLayout.of(results_dir).sequential(suite)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                out[suite] = {"first_seeds": int(data["first_seeds"]), "max_seeds": int(data["max_seeds"]),
                              "weights": [float(w) for w in data["weights"]]}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise BenchmarkError(
                    f"{path} is malformed ({exc}); delete it and rerun 'run --until-decided'") from None
    return out


class RunStore:
    """Writes runs and plans into one results folder (the only writer of ``runs/``)."""

    def __init__(self, results_dir: str | os.PathLike[str]):
        self.results_dir = Path(results_dir)

    def run_dir(self, run: RunId) -> Path:
        return run_dir(self.results_dir, run.suite, run.target, run.method, run.source, run.budget, run.seed)

    def write_plan(self, suite: str, runs: Sequence[RunId], roles: Roles | None = None) -> Path:
        """Record every run a ``run`` planned, so runs that never finish count as missing, and
        the suite's roles (the analysis measures gains against its reference)."""
        return atomic_write_json(plan_path(self.results_dir, suite), {
            "suite": suite, "roles": (roles or Roles()).to_json(), "runs": [
            {"target": r.target, "method": r.method, "source": r.source_task, "budget": r.budget, "seed": r.seed}
            for r in runs]})

    def write_sequential_design(self, suite: str, first_seeds: int, max_seeds: int,
                                weights: Sequence[float]) -> Path:
        """Record the looks of ``run --until-decided`` (the leaderboard's p-values depend on them)."""
        return atomic_write_json(ResultsLayout.of(self.results_dir).sequential(suite),
                                 {"first_seeds": first_seeds, "max_seeds": max_seeds, "weights": list(weights)})

    def is_finished(self, run: RunId, key: str, retry_failed: bool = False) -> bool:
        """Whether ``run`` has a ``run.json`` with this ``key`` that is ok (or failed, unless retrying)."""
        path = self.run_dir(run) / RUN_FILENAME
        try:
            record = RunManifest.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return False
        if record.key != key:
            return False
        if record.ok:
            problem = (files_linked(self.run_dir(run))
                       or predictions_problem(self.run_dir(run) / PREDICTIONS_FILENAME, record))
            if problem:
                log.warning("rerunning %s: %s", run.label(), problem)
            return problem is None
        if record.failure_kind == "environment":  # the machine's fault, not the run's: try again
            log.info("retrying %s: it failed for a cause of the machine (%s)", run.label(), record.error)
            return False
        return record.status == "failed" and not retry_failed

    def recorded_failed(self, run: RunId) -> bool:
        """Whether ``run.json`` of ``run`` records a failure (for the summary's hint)."""
        try:
            return json.loads((self.run_dir(run) / RUN_FILENAME).read_text(encoding="utf-8"))["status"] == "failed"
        except (OSError, ValueError, TypeError, KeyError):
            return False

    def write_run(self, run: RunId, predictions: pa.Table | None, manifest: RunManifest) -> Path:
        """Write one finished run: predictions first (none for a failed run), ``run.json`` last."""
        folder = self.run_dir(run)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RUN_FILENAME).unlink(missing_ok=True)  # from here until the end: interrupted
        fault_point("store.run_json_removed")
        if predictions is None:
            (folder / PREDICTIONS_FILENAME).unlink(missing_ok=True)
        else:
            atomic_write_parquet(folder / PREDICTIONS_FILENAME, predictions)
        fault_point("store.predictions_written")
        return atomic_write_json(folder / RUN_FILENAME, manifest.to_json())


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RunRecord:
    """One run found on disk (or planned and not found).

    ``status`` is ``"ok"`` (run.json says ok and predictions exist), ``"failed"`` (run.json
    says failed, or says ok but its predictions are missing/unreadable) or ``"missing"``
    (planned but the folder is absent, or interrupted: no readable run.json).
    """

    run: RunId
    status: Status
    path: Path
    manifest: RunManifest | None = field(default=None, compare=False, repr=False)
    error: str | None = None

    @property
    def suite(self) -> str:
        return self.run.suite

    @property
    def target(self) -> str:
        return self.run.target

    @property
    def method(self) -> str:
        return self.run.method

    @property
    def source(self) -> str:
        return self.run.source

    @property
    def budget(self) -> int:
        return self.run.budget

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def predictions_path(self) -> Path:
        return self.path / PREDICTIONS_FILENAME

    def predictions(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Read ``predictions.parquet``, sorted by ``id`` (so seeds and methods align).

        Raises ``FileNotFoundError`` for runs that are not ok.
        """
        if self.status != "ok":
            raise FileNotFoundError(f"run {self.path} has status {self.status}; no predictions")
        return read_predictions(self.predictions_path, columns=columns)


def read_predictions(
    path: str | os.PathLike[str], columns: list[str] | None = None
) -> pd.DataFrame:
    """Read a predictions file, ``id`` as str, sorted by ``id`` with a fresh index."""
    wanted = None if columns is None else sorted(set(columns) | {"id"})
    frame = pd.read_parquet(path, columns=wanted, engine="pyarrow")
    frame["id"] = frame["id"].astype(str)
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def suites(results_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the suites that have a folder under ``<results>/runs``, sorted."""
    runs = ResultsLayout.of(results_dir).runs
    if not runs.is_dir():
        return []
    return sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_plan(results_dir: str | os.PathLike[str], suite: str) -> list[RunId]:
    """The runs that the last ``run`` of ``suite`` planned; ``[]`` when there is no plan.json.

    A malformed plan is logged and ignored (then only the runs found on disk count).
    """
    path = plan_path(results_dir, suite)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        planned = [
            RunId(
                suite=suite,
                target=str(entry["target"]),
                method=str(entry["method"]),
                source=source_dirname(entry.get("source")),
                budget=int(entry["budget"]),
                seed=int(entry["seed"]),
            )
            for entry in data["runs"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring malformed %s: %s", path, exc)
        return []
    return sorted(set(planned))


def load_roles(results_dir: str | os.PathLike[str], suite: str) -> Roles:
    """The roles recorded in a suite's ``plan.json`` (the defaults when it has none)."""
    try:
        return Roles.from_json(json.loads(plan_path(results_dir, suite).read_text(encoding="utf-8")).get("roles"))
    except (OSError, ValueError, AttributeError):
        return Roles()


def _iter_run_dirs(suite_dir: Path) -> Iterator[tuple[str, str, str, int, int, Path]]:
    """Yield (target, method, source, budget, seed, folder) for every ``budget=<b>/seed=<s>``
    folder of a suite."""
    for seed_dir in sorted(suite_dir.glob("*/*/*/budget=*/seed=*")):
        if not seed_dir.is_dir():
            continue
        try:
            seed = int(seed_dir.name.split("=", 1)[1])
            budget = int(seed_dir.parent.name.split("=", 1)[1])
        except ValueError:
            log.warning("ignoring run folder with a malformed budget or seed: %s", seed_dir)
            continue
        source_dir = seed_dir.parent.parent
        method_dir = source_dir.parent
        target_dir = method_dir.parent
        yield target_dir.name, method_dir.name, source_dir.name, budget, seed, seed_dir


def _read_record(key: RunId, folder: Path) -> RunRecord:
    manifest_path = folder / RUN_FILENAME
    if not manifest_path.is_file():
        return RunRecord(key, "missing", folder, error="interrupted: no run.json")
    try:
        manifest = RunManifest.from_json(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        log.warning("treating %s as missing: unreadable run.json (%s)", folder, exc)
        return RunRecord(key, "missing", folder, error=f"unreadable run.json: {exc}")
    status = manifest.status
    foreign = link_problem(folder.parents[6], folder) or identity_problem(key, manifest)  # [6]: <results>
    if foreign:
        log.warning("counting run %s as failed (rerun it with the same command): %s", folder, foreign)
        return RunRecord(key, "failed", folder, manifest, error=foreign)
    if status == "ok":
        problem = files_linked(folder) or predictions_problem(folder / PREDICTIONS_FILENAME, manifest)
        if problem:
            log.warning("counting run %s as failed (rerun it with the same command): %s", folder, problem)
            return RunRecord(key, "failed", folder, manifest, error=f"corrupt: {problem}")
        return RunRecord(key, "ok", folder, manifest)
    error = manifest.error or f"status {status!r}"
    return RunRecord(key, "failed", folder, manifest, error=str(error))


def scan_runs(
    results_dir: str | os.PathLike[str],
    suite: str | None = None,
    *,
    include_planned: bool = True,
) -> list[RunRecord]:
    """Every run of ``<results>/runs`` (one suite or all), sorted by :class:`RunId`.

    With ``include_planned`` (the default), runs listed in a suite's ``plan.json`` whose
    folder does not exist are returned too, with status ``"missing"``, so nothing planned
    silently vanishes. Runs on disk that the plan does not list are returned as found.
    """
    names = [suite] if suite is not None else suites(results_dir)
    records: dict[RunId, RunRecord] = {}
    for name in names:
        suite_dir = ResultsLayout.of(results_dir).suite_dir(name)
        if suite_dir.is_dir():
            for target, method, source, budget, seed, folder in _iter_run_dirs(suite_dir):
                key = RunId(name, target, method, source, budget, seed)
                records[key] = _read_record(key, folder)
        if include_planned:
            for planned in load_plan(results_dir, name):
                if planned not in records:
                    folder = run_dir(results_dir, name, planned.target, planned.method,
                                     planned.source, planned.budget, planned.seed)
                    records[planned] = RunRecord(planned, "missing", folder, error="not run")
    return [records[k] for k in sorted(records)]
