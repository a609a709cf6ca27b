"""The run store: where runs live on disk, how they are written, and how they are read back.

Layout (BRIEF section 5)::

    <results>/runs/<suite>/plan.json
    <results>/runs/<suite>/<target>/<method>/<source or ->/seed=<s>/run.json
    <results>/runs/<suite>/<target>/<method>/<source or ->/seed=<s>/predictions.parquet

``run.json`` is written last, so a run folder without it is an *interrupted* run and
counts as missing. A failed run has ``run.json`` with ``"status": "failed"`` and no
predictions. Every write goes through a temporary file in the same folder followed by
``os.replace``, so a reader never sees a half-written file.

The harness uses the writing helpers; the leaderboard builder uses :func:`scan_runs`,
:func:`load_plan` and :meth:`RunRecord.predictions`. Nothing here trains or computes
statistics.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

log = logging.getLogger(__name__)

RUNS_DIRNAME = "runs"
PLAN_FILENAME = "plan.json"
RUN_FILENAME = "run.json"
PREDICTIONS_FILENAME = "predictions.parquet"
NO_SOURCE = "-"
"""Folder name (and CSV value) standing for "no source task" (per-target methods)."""
REFERENCE_METHOD = "target_only"
"""The method every transfer gain is measured against (BRIEF section 4)."""
PREDICTION_COLUMNS = ("id", "label", "prediction", "correct", "probabilities")

Status = Literal["ok", "failed", "missing"]


# --------------------------------------------------------------------------- writing


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace.

    Parent folders are created. A crash leaves either the old file or the new one, never a
    truncated mix. Returns the path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text (``\\n`` line endings on every platform)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _strict_json(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, ±inf) replaced by ``None``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict_json(v) for v in obj]
    return obj


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as pretty, key-sorted JSON (stable bytes for equal content).

    NaN and infinity are not JSON: they are written as ``null``, so every JSON reader can
    read the file. Objects json cannot encode raise ``TypeError`` before anything is written.
    """
    text = json.dumps(_strict_json(obj), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False)
    return atomic_write_text(path, text + "\n")


def atomic_write_parquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet (pyarrow engine, no pandas index)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False)
    return atomic_write_bytes(path, buffer.getvalue())


def source_dirname(source: str | None) -> str:
    """Folder name of a source task: the name, or ``-`` when the method has no source."""
    return NO_SOURCE if source is None or source == NO_SOURCE else str(source)


def run_dir(
    results_dir: str | os.PathLike[str],
    suite: str,
    target: str,
    method: str,
    source: str | None,
    seed: int,
) -> Path:
    """Folder of one run: ``<results>/runs/<suite>/<target>/<method>/<source or ->/seed=<s>``."""
    return (
        Path(results_dir) / RUNS_DIRNAME / suite / target / method / source_dirname(source)
        / f"seed={int(seed)}"
    )


def plan_path(results_dir: str | os.PathLike[str], suite: str) -> Path:
    """Path of a suite's ``plan.json``."""
    return Path(results_dir) / RUNS_DIRNAME / suite / PLAN_FILENAME


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, order=True)
class RunKey:
    """Identity of one run inside a results folder. ``source`` is ``-`` for no source."""

    suite: str
    target: str
    method: str
    source: str
    seed: int


@dataclass(frozen=True)
class RunRecord:
    """One run found on disk (or planned and not found).

    ``status`` is ``"ok"`` (run.json says ok and predictions exist), ``"failed"`` (run.json
    says failed, or says ok but its predictions are missing/unreadable) or ``"missing"``
    (planned but the folder is absent, or interrupted: no readable run.json).
    """

    key: RunKey
    status: Status
    path: Path
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    error: str | None = None

    @property
    def suite(self) -> str:
        return self.key.suite

    @property
    def target(self) -> str:
        return self.key.target

    @property
    def method(self) -> str:
        return self.key.method

    @property
    def source(self) -> str:
        return self.key.source

    @property
    def seed(self) -> int:
        return self.key.seed

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


@dataclass(frozen=True)
class PlannedRun:
    """One entry of ``plan.json``. ``source`` is ``-`` for per-target methods."""

    suite: str
    target: str
    method: str
    source: str
    seed: int

    @property
    def key(self) -> RunKey:
        return RunKey(self.suite, self.target, self.method, self.source, self.seed)


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
    runs = Path(results_dir) / RUNS_DIRNAME
    if not runs.is_dir():
        return []
    return sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_plan(results_dir: str | os.PathLike[str], suite: str) -> list[PlannedRun]:
    """The runs that the last ``run`` of ``suite`` planned; ``[]`` when there is no plan.json.

    A malformed plan is logged and ignored (then only the runs found on disk count).
    """
    path = plan_path(results_dir, suite)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        planned = [
            PlannedRun(
                suite=suite,
                target=str(entry["target"]),
                method=str(entry["method"]),
                source=source_dirname(entry.get("source")),
                seed=int(entry["seed"]),
            )
            for entry in data["runs"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring malformed %s: %s", path, exc)
        return []
    return sorted(set(planned), key=lambda p: p.key)


def _iter_run_dirs(suite_dir: Path) -> Iterator[tuple[str, str, str, int, Path]]:
    """Yield (target, method, source, seed, folder) for every ``seed=<s>`` folder of a suite."""
    for seed_dir in sorted(suite_dir.glob("*/*/*/seed=*")):
        if not seed_dir.is_dir():
            continue
        try:
            seed = int(seed_dir.name.split("=", 1)[1])
        except ValueError:
            log.warning("ignoring run folder with a malformed seed: %s", seed_dir)
            continue
        source_dir = seed_dir.parent
        method_dir = source_dir.parent
        target_dir = method_dir.parent
        yield target_dir.name, method_dir.name, source_dir.name, seed, seed_dir


def _read_record(key: RunKey, folder: Path) -> RunRecord:
    manifest_path = folder / RUN_FILENAME
    if not manifest_path.is_file():
        return RunRecord(key, "missing", folder, error="interrupted: no run.json")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("run.json is not a JSON object")
    except (OSError, ValueError) as exc:
        log.warning("treating %s as missing: unreadable run.json (%s)", folder, exc)
        return RunRecord(key, "missing", folder, error=f"unreadable run.json: {exc}")
    status = manifest.get("status")
    if status == "ok":
        if not (folder / PREDICTIONS_FILENAME).is_file():
            log.warning("run %s says ok but has no %s; counting it as failed", folder,
                        PREDICTIONS_FILENAME)
            return RunRecord(key, "failed", folder, manifest,
                             error=f"status ok but {PREDICTIONS_FILENAME} is missing")
        return RunRecord(key, "ok", folder, manifest)
    error = manifest.get("error") or f"status {status!r}"
    return RunRecord(key, "failed", folder, manifest, error=str(error))


def scan_runs(
    results_dir: str | os.PathLike[str],
    suite: str | None = None,
    *,
    include_planned: bool = True,
) -> list[RunRecord]:
    """Every run of ``<results>/runs`` (one suite or all), sorted by :class:`RunKey`.

    With ``include_planned`` (the default), runs listed in a suite's ``plan.json`` whose
    folder does not exist are returned too, with status ``"missing"``, so nothing planned
    silently vanishes. Runs on disk that the plan does not list are returned as found.
    """
    names = [suite] if suite is not None else suites(results_dir)
    records: dict[RunKey, RunRecord] = {}
    for name in names:
        suite_dir = Path(results_dir) / RUNS_DIRNAME / name
        if suite_dir.is_dir():
            for target, method, source, seed, folder in _iter_run_dirs(suite_dir):
                key = RunKey(name, target, method, source, seed)
                records[key] = _read_record(key, folder)
        if include_planned:
            for planned in load_plan(results_dir, name):
                if planned.key not in records:
                    folder = run_dir(results_dir, name, planned.target, planned.method,
                                     planned.source, planned.seed)
                    records[planned.key] = RunRecord(planned.key, "missing", folder,
                                                     error="not run")
    return [records[k] for k in sorted(records)]
