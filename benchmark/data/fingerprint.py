"""Content fingerprints of task data: what a run, a cached stem state or a fit was computed
from. They hash every column of every row in order (ids, labels *and* inputs: texts, sentence
pairs, image bytes), so a data file whose texts change under the same ids and labels is new
data, never a finished run (a key that hashed ids and labels only served stale results)."""

from __future__ import annotations

import hashlib

import datasets
import pyarrow as pa


def split_fingerprint(ds: datasets.Dataset) -> str:
    """SHA-256 of a split's rows as they are (after any selection): every column, in order."""
    table = ds.with_format("arrow")[:]  # the selected rows, materialised
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def draw_fingerprint(dd: datasets.DatasetDict) -> str:
    """Hash of every split of a draw (see :func:`split_fingerprint`), by split name."""
    h = hashlib.sha256()
    for name in sorted(dd):
        h.update(name.encode() + b"\x00" + split_fingerprint(dd[name]).encode())
    return h.hexdigest()[:24]
