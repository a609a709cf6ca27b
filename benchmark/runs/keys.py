"""Content keys: what makes a run (or a cached source model) the same as one already on disk.

A run is a pure function of its config, so its key hashes the protocol, the backbone, the
method's hyperparameters, the data subsample and the code that computes its numbers. Code is
fingerprinted by its syntax tree without docstrings, so editing a comment or a docstring
keeps every stored run and cached model; changing what the code does invalidates them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

import benchmark
from benchmark.code_version import (  # noqa: F401  (re-exported)
    RUN_CODE,
    code_fingerprint,
    method_code_version,
)
from benchmark.data.fingerprint import draw_fingerprint
from benchmark.data.task import Task


def content_hash(obj: Any) -> str:
    """Stable hash of a JSON-able object (keys sorted)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _file_record(path: str | None) -> dict[str, str] | None:
    if not path or not Path(path).is_file():
        return None
    return {"file": str(Path(path).resolve()), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def _defined_in(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj)
    except (TypeError, OSError):  # built in, or made at run time
        return None


def plugin_files(method_cls: type, tasks: Iterable[Task]) -> dict[str, Any]:
    """The files a run's method and tasks are defined in, with their SHA-256, so a result can
    be traced to the exact code (or task declaration) that made it: ``{"method": {file,
    sha256}, "tasks": {name: {file, sha256}}}`` (a YAML task's file is its declaration)."""
    out: dict[str, Any] = {"method": _file_record(_defined_in(method_cls)), "tasks": {}}
    for task in tasks:
        out["tasks"][task.name] = _file_record(task.origin or None)
    return out




def data_fingerprint(dd: datasets.DatasetDict) -> str:
    """Hash of the content of every split of a subsample: ids, labels and inputs."""
    return draw_fingerprint(dd)


def versions() -> dict[str, str]:
    """Library versions recorded in every ``run.json``."""
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "numpy": np.__version__, "benchmark": benchmark.__version__}
