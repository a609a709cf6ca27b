"""Whether a stored run can be trusted: its ``run.json`` is the record of its folder's run, made
by the code here, and its predictions are whole and consistent with it. Pure checks: nothing
here writes, and a problem is returned as one line (the store counts the run as failed, and
``run`` redoes it)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmark.fingerprint import recorded_code_version
from benchmark.runs.ids import RunId
from benchmark.runs.layout import ResultsLayout, source_dirname
from benchmark.runs.manifest import RunManifest

RUN_FILENAME = ResultsLayout.RUN_FILENAME
PREDICTIONS_FILENAME = ResultsLayout.PREDICTIONS_FILENAME
#: How far a row of ``probabilities`` may sum from 1 (float32 softmax).
PROBABILITY_TOLERANCE = 1e-3


def identity_problem(run: RunId, manifest: RunManifest) -> str | None:
    """Why ``manifest`` is not the record of ``run`` as made by the code here, or None.

    Its suite, target, method, source, budget and seed must be the folder's (a folder
    copied from another suite or run is foreign), and its ``code_version`` must be the one
    recomputed from the files its ``plugins`` name (method, task modules or YAML and data, and
    what they import) when they are at hand: a run made by other code is stale, and ``run``
    redoes it under its new key."""
    recorded = (manifest.suite, manifest.target, manifest.method, source_dirname(manifest.source),
                manifest.budget, manifest.seed)
    here = (run.suite, run.target, run.method, run.source, run.budget, run.seed)
    names = ("suite", "target", "method", "source", "budget", "seed")
    for name, got, want in zip(names, recorded, here, strict=True):
        if got is not None and got != want:
            return f"foreign: run.json is for {name} {got!r}, the folder for {want!r}"
    plugins = manifest.plugins
    now = recorded_code_version(plugins) if (plugins.get("method") or {}).get("file") else None
    if now is not None and manifest.code_version:
        if manifest.code_version != now:
            return f"stale: made by other code (code_version {manifest.code_version}, now {now})"
    return None


def predictions_problem(path: Path, manifest: RunManifest) -> str | None:
    """Why the predictions of a run whose ``run.json`` is ``manifest`` cannot be trusted, or
    None: missing or unreadable file, a row count other than ``n_test``, duplicate ids, a
    ``correct`` column that disagrees with ``label == prediction``, a class outside the task's,
    probabilities that are not a distribution over its classes (or whose argmax is not the
    prediction), or an ``accuracy`` in ``run.json`` that is not the predictions' own."""
    try:
        table = pq.read_table(path, columns=["id", "label", "prediction", "correct", "probabilities"])
    except FileNotFoundError:
        return f"{PREDICTIONS_FILENAME} is missing"
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"{PREDICTIONS_FILENAME} is unreadable ({str(exc).splitlines()[0][:120]})"
    if table.num_rows != manifest.n_test:
        return f"{PREDICTIONS_FILENAME} has {table.num_rows} rows, run.json says n_test={manifest.n_test}"
    ids = table["id"].to_pandas()
    if ids.duplicated().any():
        return f"{PREDICTIONS_FILENAME} has duplicate example ids (e.g. {ids[ids.duplicated()].iloc[0]!r})"
    frame = table.select(["label", "prediction", "correct"]).to_pandas()
    if frame.isna().any().any() or not (frame["correct"] == (frame["label"] == frame["prediction"])).all():
        return f"{PREDICTIONS_FILENAME}'s correct column disagrees with label == prediction"
    classes = manifest.num_labels or len(manifest.label_names)  # None: an older record without them
    for column in ("label", "prediction"):  # a class the task does not have is no prediction of it
        values = frame[column]
        bad = values[(values != values.round()) | (values < 0) | (values >= classes)] if classes else values[:0]
        if len(bad):
            return f"{PREDICTIONS_FILENAME} has {column} {bad.iloc[0]} outside the task's {classes} classes"
    if manifest.accuracy is not None and not math.isclose(manifest.accuracy, float(frame["correct"].mean()),
                                                          abs_tol=1e-9):
        return (f"run.json says accuracy {manifest.accuracy:.6g}, its predictions give "
                f"{float(frame['correct'].mean()):.6g}")
    return _probabilities_problem(table["probabilities"], frame["prediction"].to_numpy(), classes)


def _probabilities_problem(column: pa.ChunkedArray, prediction: np.ndarray, classes: int) -> str | None:
    """Why a ``probabilities`` column (N lists of C floats) is not the model's distribution over
    the task's ``classes`` whose argmax is ``prediction`` (N,), or None."""
    rows = column.combine_chunks()
    lengths = rows.value_lengths().to_numpy(zero_copy_only=False)
    if classes and (lengths != classes).any():
        return f"{PREDICTIONS_FILENAME} has probability rows of length {lengths[lengths != classes][0]}, not {classes}"
    if not len(rows):
        return None
    probs = rows.flatten().to_numpy(zero_copy_only=False).reshape(len(rows), -1)
    if not np.isfinite(probs).all() or (probs < 0).any() or \
            (np.abs(probs.sum(1) - 1) > PROBABILITY_TOLERANCE).any():
        return (f"{PREDICTIONS_FILENAME} has probabilities that are not a distribution "
                "(non-finite, negative or not summing to 1)")
    if (probs.argmax(1) != prediction).any():
        return f"{PREDICTIONS_FILENAME}'s prediction column is not the argmax of its probabilities"
    return None


def files_linked(folder: Path) -> str | None:
    """Which file of a run folder is a symbolic link (it may be another run's), or None. A
    rerun replaces the link itself (atomic writes), never the file it points to."""
    linked = [n for n in (RUN_FILENAME, PREDICTIONS_FILENAME) if (folder / n).is_symlink()]
    return f"{linked[0]} is a symbolic link (to {os.readlink(folder / linked[0])})" if linked else None
