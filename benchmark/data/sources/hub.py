"""Hugging Face Hub sources: ``datasets.load_dataset`` by id or a local folder of the Hub layout."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import datasets
import numpy as np

from benchmark.data.sources.common import one_line
from benchmark.data.task import SPLITS, column
from benchmark.errors import DataError, SourceUnavailable

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Hugging Face Hub
# ---------------------------------------------------------------------------------------
_TRUE = ("1", "true", "yes", "on")


def hub_offline_reason() -> str | None:
    """Why the Hub cannot be reached (an offline environment variable), else None."""
    for var in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return f"Hugging Face Hub is offline ({var}=1); unset it on a machine with network"
    return None


_PROBED: dict[str, str | None] = {}


def hub_unreachable_reason(timeout: float = 3.0) -> str | None:
    """Why the Hub host cannot be reached (one TCP connect, memoised per process), else None.

    Without this, ``load_dataset`` retries for ~30 s before failing on a machine with no
    network. Skipped (None) when a proxy is configured, since a direct connect says nothing.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = (
        url.hostname or "huggingface.co",
        url.port or (443 if url.scheme == "https" else 80),
    )
    if host not in _PROBED:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            _PROBED[host] = None
        except OSError as exc:
            _PROBED[host] = (
                f"cannot reach {host} ({exc.strerror or type(exc).__name__}); check the network, "
                "or set HF_DATASETS_OFFLINE=1 to skip Hub sources"
            )
    return _PROBED[host]


def _looks_local(path: str) -> bool:
    return path.startswith(("/", ".", "~")) or Path(path).expanduser().exists()


@dataclass
class HubSource:
    """A data set loaded with ``datasets.load_dataset``: a Hub id or a local folder.

    A local folder in the Hub's format (Parquet / CSV files, optionally with the Hub's
    ``README.md`` config block) goes through exactly the same code, which is how tests
    exercise this path offline.

    Args:
        path: Hub id (``"nyu-mll/glue"``) or a local folder.
        name: configuration (``"rte"``), if the data set has several.
        revision: commit sha or tag to pin the data to; None = the default branch.
        split_map: source split -> standard split (``{"validation_matched": "test"}``).
            Default: the standard splits the source has, under their own names. Splits
            not mapped are ignored; missing standard splits are carved by the task.
        column_map: source column -> standard column (``{"sentence1": "premise"}``);
            map a column to ``"id"`` to use it as the id (made a string). Without an id
            column, ids are ``"<source split>-<row>"``.
        label_map: source label (int id or str) -> task label name; without it, integer
            ``ClassLabel`` labels map to the task's label names by position.
        cache_dir: ``datasets`` cache folder (default: the Hugging Face default).

    Rows with a negative label (the Hub's "no gold label", e.g. SNLI's -1) are dropped.
    """

    path: str
    name: str | None = None
    revision: str | None = None
    split_map: Mapping[str, str] | None = None
    column_map: Mapping[str, str] | None = None
    label_map: Mapping[Any, str] | None = None
    cache_dir: str | None = None
    description: str = field(init=False)

    def __post_init__(self) -> None:
        ident = self.path + (f"/{self.name}" if self.name else "")
        where = "local folder" if _looks_local(self.path) else "Hugging Face Hub"
        pin = f"@{self.revision[:10]}" if self.revision else ""
        self.description = f"{where} {ident}{pin}"
        if self.split_map is not None:
            bad = sorted(set(self.split_map.values()) - set(SPLITS))
            if bad:
                raise DataError(
                    f"{self.description}: split_map targets {bad} must be in {list(SPLITS)}."
                )

    def unavailable_reason(self) -> str | None:
        if _looks_local(self.path):
            if not Path(self.path).expanduser().exists():
                return f"folder {self.path} not found; check the path"
            return None
        return hub_offline_reason() or hub_unreachable_reason()

    def load(self) -> datasets.DatasetDict:
        reason = self.unavailable_reason()
        if reason is not None:
            raise SourceUnavailable(reason)
        path = str(Path(self.path).expanduser()) if _looks_local(self.path) else self.path
        try:
            raw = datasets.load_dataset(
                path, self.name, revision=self.revision, cache_dir=self.cache_dir
            )
        except Exception as exc:  # any library failure becomes one clean line
            raise SourceUnavailable(
                f"datasets.load_dataset({path!r}{', ' + repr(self.name) if self.name else ''}) "
                f"failed: {type(exc).__name__}: {one_line(exc)}"
            ) from exc
        if not isinstance(raw, datasets.DatasetDict):
            raise DataError(
                f"{self.description}: load_dataset returned {type(raw).__name__}, not splits."
            )
        split_map = (
            dict(self.split_map)
            if self.split_map is not None
            else {s: s for s in SPLITS if s in raw}
        )
        missing = [s for s in split_map if s not in raw]
        if missing:
            raise DataError(
                f"{self.description}: split(s) {missing} not found (has {list(raw)}); "
                "fix split_map."
            )
        return datasets.DatasetDict(
            {std: self._standardise(raw[src], src) for src, std in split_map.items()}
        )

    def _standardise(self, ds: datasets.Dataset, split: str) -> datasets.Dataset:
        column_map = dict(self.column_map or {})
        missing = [c for c in column_map if c not in ds.column_names]
        if missing:
            raise DataError(
                f"{self.description}, split {split!r}: column(s) {missing} not found "
                f"(has {ds.column_names}); fix column_map."
            )
        drop = [c for c in column_map.values() if c in ds.column_names and c not in column_map]
        if drop:  # a column already called like a mapping target would collide
            ds = ds.remove_columns(drop)
        if column_map:
            ds = ds.rename_columns(column_map)
        if "id" not in ds.column_names:
            ds = ds.add_column("id", [f"{split}-{i}" for i in range(len(ds))])
        elif ds.features["id"] != datasets.Value("string"):
            ds = ds.cast_column("id", datasets.Value("string"))
        if "label" not in ds.column_names:
            raise DataError(
                f"{self.description}, split {split!r}: no 'label' column; map one in column_map."
            )
        feature = ds.features["label"]
        if isinstance(feature, datasets.ClassLabel) or (
            isinstance(feature, datasets.Value) and feature.dtype.startswith("int")
        ):
            labels = column(ds, "label")
            keep = np.flatnonzero(labels >= 0)
            if len(keep) < len(ds):
                log.info(
                    "%s %s: dropping %d unlabelled rows",
                    self.description,
                    split,
                    len(ds) - len(keep),
                )
                ds = ds.select(keep.tolist())
        if self.label_map is not None:
            raw_labels = column(ds, "label").tolist()
            unknown = sorted({str(x) for x in raw_labels if x not in self.label_map})
            if unknown:
                raise DataError(
                    f"{self.description}, split {split!r}: label(s) {unknown[:5]} not in "
                    "label_map; add them."
                )
            mapped = [self.label_map[x] for x in raw_labels]
            ds = ds.remove_columns("label").add_column("label", mapped)
        return ds


