"""``--from lm-eval``: lm-evaluation-harness output folders written with ``--log_samples``.

Each input is ``[SYSTEM=]FOLDER``; every ``results_<timestamp>.json`` under FOLDER is one
evaluation of SYSTEM (default: the folder's name) at the seed it records
(``config.random_seed``, lm-eval's ``--seed``), read with the ``samples_<task>_<timestamp>.jsonl``
files beside it (lm-eval's ``EvaluationTracker.save_results_samples``). A sample line holds
``doc_id`` (the example), ``doc_hash``, ``filter``, ``metrics`` (the metric names) and one
value per metric; ``correct`` is the chosen metric's value, which must be 0/1.

Options: ``metric`` (default: the first metric lm-eval recorded for the task, e.g. ``acc``),
``filter`` (default: the only filter, e.g. ``none``; required when there are several).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.analysis.compare.evaluations import Evaluations, tidy
from benchmark.analysis.compare.registry import register_importer
from benchmark.errors import DataError


def split_input(spec: str) -> tuple[str, Path]:
    """``SYSTEM=FOLDER`` -> (SYSTEM, FOLDER); ``FOLDER`` -> (its name, FOLDER)."""
    name, sep, folder = spec.partition("=")
    path = Path(folder if sep else spec)
    return (name if sep else path.resolve().name), path


def _samples(path: Path, metric: str | None, filter_name: str | None) -> tuple[list[dict[str, Any]], str, str]:
    """One samples file's (rows of doc_id / doc_hash / value, metric, filter)."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: no samples")
    filters = sorted({str(s.get("filter", "none")) for s in lines})
    chosen = filter_name or (filters[0] if len(filters) == 1 else None)
    if chosen is None or chosen not in filters:
        raise DataError(f"{path}: {'filter ' + repr(filter_name) + ' not found' if filter_name else 'several filters'};"
                        f" filters present: {', '.join(filters)}; pick one with --option filter=NAME")
    lines = [s for s in lines if str(s.get("filter", "none")) == chosen]
    present = [str(m) for m in lines[0].get("metrics", [])] or sorted(
        k for k, v in lines[0].items() if isinstance(v, int | float) and k != "doc_id")
    name = metric or (present[0] if present else None)
    if name is None or any(name not in s for s in lines):
        raise DataError(f"{path}: metric {name!r} was not recorded per sample; metrics present: "
                        f"{', '.join(present) or '(none)'}; pick one with --option metric=NAME")
    rows = [{"doc_id": s["doc_id"], "doc_hash": s.get("doc_hash", ""), "correct": s[name]} for s in lines]
    return rows, name, chosen


def read_folder(system: str, folder: Path, metric: str | None, filter_name: str | None) -> list[pd.DataFrame]:
    """Every evaluation (results file + its samples files) under ``folder`` as tidy frames."""
    results = sorted(folder.rglob("results_*.json"))
    if not results:
        raise DataError(f"{folder}: no results_*.json below it; run lm_eval with --output_path {folder} --log_samples")
    frames = []
    for path in results:
        stamp = path.name[len("results_"):-len(".json")]
        try:
            seed = json.loads(path.read_text(encoding="utf-8"))["config"]["random_seed"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: cannot read its config.random_seed ({exc}); is it lm-eval's results file?"
                            ) from None
        samples = sorted(path.parent.glob(f"samples_*_{stamp}.jsonl"))
        if not samples:
            raise DataError(f"{path}: no samples_<task>_{stamp}.jsonl beside it; rerun lm_eval with --log_samples")
        for sample in samples:
            task = sample.name[len("samples_"):-len(f"_{stamp}.jsonl")]
            rows, _, _ = _samples(sample, metric, filter_name)
            frame = pd.DataFrame(rows)
            frames.append(frame.assign(task=task, system=system, seed=seed, example_id=frame["doc_id"].astype(str),
                                       where=str(sample)))
    return frames


def _check_documents(frame: pd.DataFrame) -> None:
    """The same doc_id must be the same document (doc_hash) in every run of a task."""
    hashed = frame[frame["doc_hash"] != ""]
    counts = hashed.groupby(["task", "example_id"])["doc_hash"].nunique()
    bad = counts[counts > 1]
    if len(bad):
        task, doc = bad.index[0]
        files = sorted(set(hashed[(hashed["task"] == task) & (hashed["example_id"] == doc)]["where"]))
        raise DataError(f"task {task!r}: doc_id {doc} holds different documents (doc_hash) in {len(bad)} cases, "
                        f"e.g. {files[0]} and {files[-1]}; the systems were evaluated on different data")


@register_importer("lm-eval")
def read_lm_eval(paths: Sequence[str], *, metric: str | None = None, filter: str | None = None,  # noqa: A002
                 **options: Any) -> Evaluations:
    """lm-eval ``--log_samples`` folders ``[SYSTEM=]FOLDER`` (options: metric, filter)."""
    if options:
        raise DataError(f"--from lm-eval: unknown option(s) {', '.join(sorted(options))}; known: metric, filter")
    if not paths:
        raise DataError("--from lm-eval: pass one or more [SYSTEM=]FOLDER")
    frames = []
    for spec in paths:
        system, folder = split_input(spec)
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder; pass lm_eval's --output_path folders, one per system and seed")
        frames += read_folder(system, folder, metric, filter)
    frame = pd.concat(frames, ignore_index=True)
    _check_documents(frame)
    return Evaluations(tidy(frame, "lm-eval samples"))
