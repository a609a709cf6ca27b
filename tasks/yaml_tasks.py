"""Registers the YAML-declared tasks (bring-your-own data, see :mod:`benchmark.data.yaml_task`).

Looked for, in order: ``*.yaml`` / ``*.yml`` files in this ``tasks/`` folder, then in every
folder listed in the environment variable ``BENCHMARK_TASKS_PATH`` (``os.pathsep``
separated, like ``PATH``). A file that fails validation, or whose name is already taken, is
skipped with a logged error so that one bad file cannot hide every other task; check one
file strictly with ``benchmark.data.yaml_task.load_task_yaml(path)``.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Callable
from pathlib import Path

from benchmark.api import TASKS, BenchmarkError, Task, load_task_yaml

log = logging.getLogger(__name__)

ENV_VAR = "BENCHMARK_TASKS_PATH"


def yaml_task_folders() -> list[Path]:
    """This package folder, then the folders in ``$BENCHMARK_TASKS_PATH``."""
    folders = [Path(__file__).resolve().parent]
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            folder = Path(entry).expanduser()
            if folder.is_dir():
                folders.append(folder)
            else:
                log.warning("%s lists %s, which is not a folder; ignoring it", ENV_VAR, folder)
    return folders


def yaml_task_files(folders: list[Path] | None = None) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files in ``folders`` (default: :func:`yaml_task_folders`)."""
    files: list[Path] = []
    for folder in folders if folders is not None else yaml_task_folders():
        files += sorted(
            p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )
    return files


def _factory(path: Path) -> Callable[[], Task]:
    def factory() -> Task:
        return load_task_yaml(path)

    factory.__qualname__ = f"yaml:{path}"  # the registry's origin: distinct per file
    factory.__doc__ = f"Task declared in {path}."
    return factory


def register_yaml_tasks(files: list[Path] | None = None) -> list[str]:
    """Register every valid YAML task in ``files``; returns the names registered."""
    _import_python_tasks()
    names: list[str] = []
    for path in files if files is not None else yaml_task_files():
        try:
            task = load_task_yaml(path)
        except BenchmarkError as exc:
            log.error("skipping task file %s: %s", path, exc)
            continue
        if task.name in TASKS:
            if TASKS.origin(task.name) != f"{__name__}.yaml:{path.resolve()}":
                log.error(
                    "skipping task file %s: task %r already exists (%s); rename it.",
                    path,
                    task.name,
                    TASKS.origin(task.name),
                )
            continue
        TASKS.register(task.name)(_factory(path.resolve()))
        names.append(task.name)
    return names


def _import_python_tasks() -> None:
    """Import the Python task modules first, so a YAML task cannot take their names."""
    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)], prefix=f"{package}."):
        if info.name != __name__ and not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)


register_yaml_tasks()
