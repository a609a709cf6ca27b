"""Bring-your-own local files: CSV / TSV / JSONL / Parquet tables and image folders."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd

from benchmark.data.sources.common import FORMATS, IMAGE_SUFFIXES, one_line
from benchmark.data.task import INPUT_COLUMNS
from benchmark.errors import DataError, SourceUnavailable

log = logging.getLogger(__name__)

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
            records, lines = [], []
            with open(path, encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise DataError(
                                f"{path}, line {lineno}: not valid JSON ({exc.msg}); fix the line."
                            ) from exc
                        lines.append(lineno)
            if any(not isinstance(r, dict) for r in records):
                raise DataError(f"{path}: every JSONL line must be an object {{column: value}}.")
            df = pd.DataFrame.from_records(records)
            # blank lines are skipped, so row k is not line k + 1: keep the line numbers
            df.attrs["lines"] = lines
            return df
        if fmt == "parquet":
            return pd.read_parquet(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty; give it a header row and examples.") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                        "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8).") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path} as {fmt}: {one_line(exc)}") from exc
    except Exception as exc:  # pyarrow and friends raise their own types
        raise DataError(
            f"cannot read {path} as {fmt}: {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    raise DataError(f"unknown format {fmt!r}; use one of {list(FORMATS)}.")


#: Images above this many pixels are refused when a task is read: decoding one takes
#: gigabytes (PIL's own bomb guard, ``Image.MAX_IMAGE_PIXELS``, warns only at ~89M) and no
#: backbone here needs more than a few hundred pixels a side.
MAX_IMAGE_PIXELS = 50_000_000
#: How many offending rows / files an error names before it says "and N more".
SHOWN = 5
_CONTAINERS = (list, tuple, dict, set, np.ndarray, bytes, bytearray)


def _more(names: Sequence[str]) -> str:
    """``"a, b, c"`` for at most :data:`SHOWN` names, then ``" and N more"``."""
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _kind_of(value: Any) -> str:
    """What a user calls a container cell (Parquet lists arrive as numpy arrays)."""
    if isinstance(value, list | tuple | set | np.ndarray):
        return "list"
    return "dict" if isinstance(value, dict) else "bytes"


def _is_blank(value: Any) -> bool:
    """None, NaN / NA, or a string of only whitespace: a cell that holds no text."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def check_cells(
    values: Sequence[Any], path: Path, column: str, row_name: Callable[[int], str]
) -> None:
    """Refuse a column whose cells are empty or not scalars (lists, dicts, arrays, bytes).

    Every format is held to the same rule: CSV/TSV read an empty cell as ``""``, JSONL and
    Parquet as ``None``; both would become an example with no text. A list cell would be
    stringified into text like ``"['a' 'b']"``, so it is refused too.

    Args:
        values: the ``n`` cells of one column, in file order.
        row_name: row index -> how the message names it (e.g. ``"row 3 (line 4)"``).
    """
    nested = [k for k, v in enumerate(values) if isinstance(v, _CONTAINERS)]
    if nested:
        first = values[nested[0]]
        example = " ".join(repr(first).split())  # an array's repr spans lines
        example = example if len(example) <= 60 else example[:57] + "..."
        raise DataError(
            f"{path}: column {column!r} holds {_kind_of(first)} values, not single "
            f"texts or labels, in {_more([row_name(k) for k in nested])} (e.g. {example}); "
            "store one string per cell "
            "(join the list into one text, or pick the element you mean)."
        )
    blank = [k for k, v in enumerate(values) if _is_blank(v)]
    if blank:
        raise DataError(
            f"{path}: column {column!r} is empty in {_more([row_name(k) for k in blank])}; "
            "fill the cells or drop those rows (an empty cell would be an example with no "
            "text or no label)."
        )


def image_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as an image (None when it can): unreadable or enormous.

    Cheap: the header gives the size; PNG's ``verify()`` checks every chunk's CRC without
    decoding; other formats (whose ``verify`` checks little) are decoded, JPEG at reduced
    scale (``draft``), so a truncated file is caught here and not in every run.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > MAX_IMAGE_PIXELS:
                    return f"{width}x{height} pixels, over the {MAX_IMAGE_PIXELS:,}-pixel limit"
                if im.format == "PNG":
                    im.verify()
                    return None
            with Image.open(path) as im:
                im.draft(im.mode, (1, 1))  # JPEG: decode at 1/8 scale; a no-op elsewhere
                im.load()
    except Image.UnidentifiedImageError:
        return "not an image file PIL can read"
    except Image.DecompressionBombError:  # over twice PIL's limit: refused before the size
        return f"over twice PIL's {Image.MAX_IMAGE_PIXELS:,}-pixel decompression-bomb limit"
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... by format
        return f"unreadable ({one_line(exc, 80)})"
    return None


#: (path, size, mtime) of images already found good in this process: a task loaded again
#: (a new Task object for the same YAML file) does not reopen them; an edited file is rechecked.
_GOOD_IMAGES: set[tuple[str, int, int]] = set()


def check_images(files: Sequence[Path], root: Path, split: str) -> None:
    """Open every image once; refuse the folder naming every bad file (first few + count)."""
    bad: list[tuple[Path, str]] = []
    for p in files:
        st = p.stat()
        key = (str(p), st.st_size, st.st_mtime_ns)
        if key in _GOOD_IMAGES:
            continue
        why = image_problem(p)
        if why is None:
            _GOOD_IMAGES.add(key)
        else:
            bad.append((p, why))
    if bad:
        named = [f"{p.relative_to(root).as_posix()}: {why}" for p, why in bad]
        raise DataError(
            f"{root} ({split} split): {len(bad)} of {len(files)} image(s) cannot be used "
            f"[{_more(named)}]; replace them (re-save as PNG/JPEG under "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels) or delete them."
        )


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
        # an empty or list-valued label is named by its row, not as an unknown label ''
        check_cells(df[label_col].tolist(), path, label_col, self._row_names(df))
        labels = match_labels(
            df[label_col].tolist(), self.label_names, f"{path}, column {label_col!r}"
        )
        data: dict[str, list[Any]] = {}
        data["id"] = (
            [str(x) for x in df[wanted["id"]]]
            if "id" in wanted
            else [f"{split}-{i}" for i in range(len(df))]
        )
        ids = pd.Series(data["id"])
        if ids.duplicated().any():
            first = ids[ids.duplicated()].iloc[0]
            rows = np.flatnonzero((ids == first).to_numpy())[:2].tolist()
            raise DataError(f"{path}: id {first!r} appears twice (rows {rows[0]} and {rows[1]} of column "
                            f"{wanted['id']!r}); ids must be unique, fix the file or drop `columns.id`.")
        for std in INPUT_COLUMNS[self.kind]:
            values = df[wanted[std]].tolist()
            check_cells(values, path, wanted[std], self._row_names(df))
            data[std] = [str(x) for x in values]
        data["label"] = labels.tolist()
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                **{c: datasets.Value("string") for c in INPUT_COLUMNS[self.kind]},
                "label": datasets.ClassLabel(names=list(self.label_names)),
            }
        )
        return datasets.Dataset.from_dict(data, features=features)

    def _row_names(self, df: pd.DataFrame) -> Callable[[int], str]:
        """Row index -> where a person finds it in the file (the line for text formats)."""
        if self.fmt in ("csv", "tsv"):  # line 1 is the header
            return lambda k: f"row {k + 1} (line {k + 2})"
        if self.fmt == "jsonl" and "lines" in df.attrs:
            lines = df.attrs["lines"]
            return lambda k: f"row {k + 1} (line {lines[k]})"
        return lambda k: f"row {k + 1}"

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
        check_images(files, root, split)
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
