"""What a run's key covers besides its config: the files its method and tasks are defined in.

A run is a pure function of its config, its data draw and its code, so its key hashes the
protocol, the backbone, the method's hyperparameters, the draw's content and
:func:`run_code_version`: the code closure (:func:`benchmark.fingerprint.code_fingerprint`)
of the code that executes a run, the method's module and each Python task's module, with the
bytes of each YAML task's declaration and data files. The same files are recorded in
``run.json`` (``plugins``), from which the store recomputes the version to find stale runs.
"""

from __future__ import annotations

import inspect
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

import benchmark
from benchmark.data.task import Task
from benchmark.fingerprint import RUN_ENTRY, file_sha256, recorded_code_version


def _file_record(path: str | Path | None) -> dict[str, str] | None:
    if not path or not Path(path).exists():
        return None
    return {"file": str(Path(path).resolve()), "sha256": file_sha256(path)}


def _defined_in(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj)
    except (TypeError, OSError):  # built in, or made at run time
        return None


def task_record(task: Task) -> dict[str, Any] | None:
    """The files ``task`` is defined by, with their SHA-256: ``{"file": the Python module of
    its factory, or its YAML declaration (``Task.origin``), "sha256", "data": [{file, sha256}]
    of the local data files it reads}``. A control is defined by its base task (its own code
    is :mod:`benchmark.data.controls`, in every run's closure)."""
    base = getattr(task, "base", None)
    if isinstance(base, Task):
        return task_record(base)
    record: dict[str, Any] | None = _file_record(task.origin or None)
    data = [_file_record(p) for s in task.sources for _, p in sorted((getattr(s, "files", None) or {}).items())]
    if record is not None and data:
        record["data"] = [d for d in data if d is not None]
    return record


def plugin_files(method_cls: type, tasks: Iterable[Task]) -> dict[str, Any]:
    """The files a run's method and tasks are defined in, with their SHA-256, so a result can
    be traced to the exact code (or task declaration and data) that made it: ``{"method":
    {file, sha256}, "tasks": {name: see task_record}}``."""
    return {"method": _file_record(_defined_in(method_cls)), "tasks": {t.name: task_record(t) for t in tasks}}


def run_code_version(method_cls: type, tasks: Iterable[Task], entry: str | Path = RUN_ENTRY) -> str:
    """:func:`~benchmark.fingerprint.recorded_code_version` of :func:`plugin_files`: the code
    closure of ``entry``, the method's module and the tasks' modules, and the bytes of YAML
    tasks' declarations and data files."""
    # Only files at hand are recorded, so the version is always computable here.
    return recorded_code_version(plugin_files(method_cls, tasks), entry) or ""


def versions() -> dict[str, str]:
    """Library versions recorded in every ``run.json``."""
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "numpy": np.__version__, "benchmark": benchmark.__version__}
