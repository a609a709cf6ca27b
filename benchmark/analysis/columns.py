"""Columns declared once: a :class:`Column` (name, type, meaning, report format, and for a
derived column how to compute it from its row) in a :class:`Table` per CSV makes the CSV
header and dtypes, the README's column tables and the report's cell formatting.

A plug-in adds a column to a CSV without editing the package::

    register_column("transfer_matrix.csv", Column(
        "gain_points", float, "The gain in accuracy points.", compute=lambda row: 100 * row["gain"]))

and it is written (last) in the CSV, listed in :func:`docs_markdown` and shown in the report's
tables of that CSV. ``unregister_column`` takes it away again. A pip package registers its
columns (and estimators) from a module named by an entry point in the group
:data:`EXTENSIONS_GROUP`, loaded on first use by every command.
"""

from __future__ import annotations

import importlib.metadata
import io
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import pandas as pd

from benchmark.analysis.formats import fmt_int, fmt_num, fmt_text
from benchmark.errors import ConfigError, unknown_name

log = logging.getLogger(__name__)

Row = Mapping[str, Any]
EXTENSIONS_GROUP = "benchmark.extensions"
TYPES: dict[type, str] = {int: "int", float: "float", str: "str", bool: "bool"}
FLOAT_FORMAT = "%.6g"
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
BEGIN = "<!-- begin: CSV column tables, generated from benchmark/analysis/schema.py; do not edit by hand -->"
END = "<!-- end: CSV column tables -->"


def _default_format(kind: type) -> Callable[[Any], str]:
    return fmt_int if kind is int else fmt_num if kind is float else fmt_text


@dataclass(frozen=True)
class Column:
    """One CSV column.

    ``meaning``: one sentence or more for the docs (a callable when it lists something registered,
    e.g. the estimators). ``label``: its header in the report (default: the name). ``fmt``: how the
    report writes a value (default by type: int as an integer, float with 2 decimals, else text);
    int and float columns are right-aligned there. ``compute``: for a derived column, its value
    from the row's other columns (a mapping name -> value, NaN where missing).
    """

    name: str
    type: type
    meaning: str | Callable[[], str]
    label: str = ""
    fmt: Callable[[Any], str] | None = None
    compute: Callable[[Row], Any] | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"column name {self.name!r} must be lower_snake_case (letters, digits, _)")
        if self.type not in TYPES:
            raise ConfigError(f"column {self.name!r}: type must be one of int, float, str, bool, got {self.type!r}")

    @property
    def header(self) -> str:
        """The report's header of this column."""
        return self.label or self.name

    @property
    def numeric(self) -> bool:
        """Right-aligned in the report."""
        return self.type in (int, float)

    def text(self, value: Any) -> str:
        """The report's text of ``value``."""
        return (self.fmt or _default_format(self.type))(value)

    def describe(self) -> str:
        return self.meaning() if callable(self.meaning) else self.meaning


_TABLES: dict[str, Table] = {}
_REGISTERED: dict[str, list[Column]] = {}
_extensions_loaded = False


def load_extensions(*, again: bool = False) -> None:
    """Import every module named by an entry point of :data:`EXTENSIONS_GROUP` (once; ``again``
    looks for new ones). A broken one is logged and skipped, never hides the others."""
    global _extensions_loaded
    if _extensions_loaded and not again:
        return
    _extensions_loaded = True
    for ep in importlib.metadata.entry_points(group=EXTENSIONS_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a third-party plug-in must not stop the leaderboards
            log.error("could not load extension %r (%s): %s", ep.name, ep.value, exc)


@dataclass(frozen=True, eq=False)
class Table(Sequence[str]):
    """One CSV: its declared columns in file order, then the registered ones; as a sequence, the
    column names. ``extends``: a table whose registered columns this one carries too (the
    negative-transfer rows are transfer-matrix rows)."""

    file: str
    about: str
    base: tuple[Column, ...]
    extends: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.base]
        if len(set(names)) != len(names):
            raise ConfigError(f"{self.file}: a column is declared twice in {names}")
        _TABLES[self.file] = self

    def columns(self) -> tuple[Column, ...]:
        """Every column in file order: declared, then registered (plug-ins)."""
        load_extensions()
        return self.base + self.registered()

    def registered(self) -> tuple[Column, ...]:
        return tuple(_REGISTERED.get(self.extends, ())) + tuple(_REGISTERED.get(self.file, ()))

    def column(self, name: str) -> Column:
        for column in self.columns():
            if column.name == name:
                return column
        raise unknown_name(f"column of {self.file}", name, self)

    def __iter__(self) -> Iterator[str]:
        return (c.name for c in self.columns())

    def __len__(self) -> int:
        return len(self.columns())

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return list(self)[i]

    def frame(self, rows: Sequence[Row] | pd.DataFrame) -> pd.DataFrame:
        """The table of ``rows``: exactly these columns (absent values NaN), derived columns computed
        from each row, stable dtypes (int -> nullable Int64, bool, float -> float64)."""
        records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
        out = pd.DataFrame(records, columns=list(self))
        for column in self.columns():
            if column.compute is not None and len(out):
                out[column.name] = [column.compute(row) for row in out.to_dict("records")]
            try:
                if column.type is int:
                    out[column.name] = pd.array(pd.to_numeric(out[column.name]), dtype="Int64")
                elif column.type is bool:
                    out[column.name] = out[column.name].astype(bool)
                elif column.type is float:
                    out[column.name] = pd.to_numeric(out[column.name]).astype("float64")
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{self.file}: column {column.name!r} is declared {TYPES[column.type]} but holds "
                                  f"other values ({exc}); fix its type or what computes it") from None
        return out

    def docs(self) -> str:
        """This CSV's section of the README: heading, what a row is, the column table."""
        lines = [f"### `{self.file}`", "", self.about.strip(), "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {TYPES[c.type]} | {c.describe().replace('|', '∣')} |" for c in self.columns()]
        return "\n".join(lines) + "\n"


def tables() -> dict[str, Table]:
    """Every declared CSV, in the order the builder writes them."""
    return dict(_TABLES)


def table(file: str) -> Table:
    if file not in _TABLES:
        raise unknown_name("leaderboard CSV", file, _TABLES)
    return _TABLES[file]


def register_column(file: str, column: Column) -> Column:
    """Add a derived column (with ``compute``) to the CSV ``file``, after its declared columns."""
    target = table(file)
    if any(c is column for c in _REGISTERED.get(file, [])):
        return column  # the same module imported twice
    if column.compute is None:
        raise ConfigError(f"column {column.name!r} for {file} needs compute=<function of the row>: a plug-in "
                          "column is computed from the row's other columns")
    carriers = [target] + [t for t in _TABLES.values() if t.extends == file]
    for t in carriers:
        if column.name in t:
            raise ConfigError(f"{t.file} already has a column {column.name!r}; choose another name")
    _REGISTERED.setdefault(file, []).append(column)
    return column


def unregister_column(file: str, name: str) -> None:
    """Remove a column added by :func:`register_column` (a no-op when it is not registered)."""
    _REGISTERED[file] = [c for c in _REGISTERED.get(file, []) if c.name != name]


def docs_markdown() -> str:
    """The README's CSV sections, one per declared CSV (registered columns included)."""
    return "\n".join(t.docs() for t in _TABLES.values())


def readme_block(readme_text: str) -> str:
    """The generated part of a README (between :data:`BEGIN` and :data:`END`), or "" when absent."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        return ""
    return readme_text[start + len(BEGIN):end].strip("\n") + "\n"


def write_readme(path: str | Path) -> bool:
    """Replace the README's generated CSV sections with :func:`docs_markdown`; returns whether it changed."""
    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ConfigError(f"{readme} has no '{BEGIN}' ... '{END}' block; add the two lines where the "
                          "CSV column tables belong")
    new = text[:start + len(BEGIN)] + "\n\n" + docs_markdown() + "\n" + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def control_rows(table: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows whose source is a control (``control`` not empty)."""
    return table["control"].astype("string").fillna("").ne("").astype(bool)


def group_rows(table: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows whose source is a group's source set (``a+b``: many -> one or merge all)."""
    return table["source"].astype("string").fillna("").str.contains("+", regex=False).astype(bool)


def sort_rows(frame: pd.DataFrame, by: list[str], columns: Sequence[str]) -> pd.DataFrame:
    return frame.sort_values(by, kind="stable", na_position="first").reset_index(drop=True)[list(columns)]


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of a table: no index, ``%.6g`` floats, empty cells for NaN, ``\\n`` ends.

    ``-0`` is normalised to ``0`` so equal numbers always print the same.
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col] + 0.0
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, float_format=FLOAT_FORMAT, na_rep="", lineterminator="\n")
    return buffer.getvalue()
