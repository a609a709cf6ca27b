"""Atomic file writes: a reader never sees a half-written file.

Every write goes to a temporary file in the same folder, is flushed to disk, and is moved
over the target with ``os.replace``. Used by the run store, the leaderboards, the report
and the on-disk caches.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmark.faults import fault_point


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace.

    Parent folders are created. A crash leaves either the old file or the new one, never a
    truncated mix. Returns the path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            fault_point("atomic_write.partial")
            handle.write(data[len(data) // 2 :])
            handle.flush()
            os.fsync(handle.fileno())
        fault_point("atomic_write.before_replace")
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text (``\\n`` line endings on every platform)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _strict_json(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, ±inf) replaced by ``None``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict_json(v) for v in obj]
    return obj


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as pretty, key-sorted JSON (stable bytes for equal content).

    NaN and infinity are not JSON: they are written as ``null``, so every JSON reader can
    read the file. Objects json cannot encode raise ``TypeError`` before anything is written.
    """
    text = json.dumps(_strict_json(obj), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False)
    return atomic_write_text(path, text + "\n")


def atomic_write_parquet(path: str | os.PathLike[str], table: pa.Table) -> Path:
    """Atomically write a pyarrow Table as Parquet."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return atomic_write_bytes(path, buffer.getvalue())
