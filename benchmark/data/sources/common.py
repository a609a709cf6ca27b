"""Helpers shared by every source: one-line errors, package files, path fingerprints."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from benchmark import paths
from benchmark.errors import SourceUnavailable

log = logging.getLogger(__name__)

#: Bump when the on-disk cache layout or the standardisation in this module changes.
CACHE_FORMAT = "1"

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".webp",
    ".tif",
    ".tiff",
)
FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "imagefolder")


def one_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception message, shortened: for one-line errors."""
    text = str(exc).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------
# Locating packaged files
# ---------------------------------------------------------------------------------------
def package_file(package: str, relative: str, fix: str) -> Path:
    """``<installed package folder>/relative``, found without importing the package.

    Raises :class:`SourceUnavailable` (message ends with ``fix``) when the package is not
    installed or the file is missing.
    """
    root = paths.package_dir(package)
    if root is None:
        raise SourceUnavailable(f"Python package {package!r} is not installed; {fix}")
    path = root / relative
    if not path.exists():
        raise SourceUnavailable(f"{path} is missing; {fix}")
    return path


def existing_path(path: str | Path, fix: str) -> Path:
    """``path`` if it exists, else :class:`SourceUnavailable` saying ``fix``."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SourceUnavailable(f"{path} not found; {fix}")
    return path


def fingerprint_paths(files: Sequence[Path]) -> str:
    """A cheap content key for files and folders: path, size and mtime of every file.

    Folders are walked (sorted), so adding, removing or touching a file changes the key.
    """
    h = hashlib.sha256()
    for root in files:
        root = Path(root).resolve()
        members = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for p in members:
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


