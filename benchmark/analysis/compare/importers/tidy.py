"""``--from tidy``: one or more tidy tables (CSV, TSV, Parquet, JSON Lines), one row per
(system, seed, task, example_id) with ``correct`` 0/1, or ``prediction`` + ``label``
(correct when their text is equal). Columns: docs/user-guide/compare.md."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.analysis.compare.evaluations import Evaluations, tidy
from benchmark.analysis.compare.registry import register_importer
from benchmark.errors import DataError, unknown_name

#: File suffix -> reader.
READERS = {
    ".csv": lambda p: pd.read_csv(p),
    ".tsv": lambda p: pd.read_csv(p, sep="\t"),
    ".parquet": lambda p: pd.read_parquet(p),
    ".jsonl": lambda p: pd.read_json(p, lines=True),
}


def read_table(path: Path) -> pd.DataFrame:
    """One table file as a frame (one-line errors for an unknown suffix or an unreadable file)."""
    if path.suffix.lower() not in READERS:
        raise unknown_name("tidy file type", path.suffix or "(no suffix)", READERS, f"({path})")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        frame: pd.DataFrame = READERS[path.suffix.lower()](path)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read it as {path.suffix.lower()[1:]} ({str(exc).splitlines()[0]})") from None
    return frame


@register_importer("tidy")
def read_tidy(paths: Sequence[str], **options: Any) -> Evaluations:
    """The tidy tables at ``paths``, concatenated (no options)."""
    if options:
        raise DataError(f"--from tidy takes no options, got {', '.join(sorted(options))}")
    if not paths:
        raise DataError("--from tidy: pass one or more table files")
    frames = [read_table(Path(p)) for p in paths]
    return Evaluations(tidy(pd.concat(frames, ignore_index=True), ", ".join(map(str, paths))))
