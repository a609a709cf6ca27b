"""A corrupted, foreign or stale store is detected, reported and repaired, never averaged in
(real smoke runs)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmark.analysis.leaderboard import compute_leaderboards
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import run_suite
from benchmark.runs.store import RunRecord, scan_runs
from benchmark.runs.suite_catalog import get_suite


def _truncate(folder: Path) -> None:
    path = folder / "predictions.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _miscount(folder: Path) -> None:
    record = json.loads((folder / "run.json").read_text())
    record["n_test"] += 1
    (folder / "run.json").write_text(json.dumps(record))


def _rewrite(folder: Path, change: Callable[[pd.DataFrame], pd.DataFrame], recount: bool = False) -> None:
    frame = change(pd.read_parquet(folder / "predictions.parquet"))
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "predictions.parquet")
    if recount:
        record = json.loads((folder / "run.json").read_text())
        record["n_test"] = len(frame)
        (folder / "run.json").write_text(json.dumps(record))


def _flip_correct(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[0, "correct"] = not frame.loc[0, "correct"]
    return frame


def _foreign(folder: Path) -> None:
    """The run.json of the sibling seed's run, as a copied folder would carry."""
    other = folder.parent / ("seed=1" if folder.name == "seed=0" else "seed=0")
    shutil.copy(other / "run.json", folder / "run.json")


def _stale(folder: Path) -> None:
    """A run made by other code: another code version, hence another key."""
    record = json.loads((folder / "run.json").read_text())
    record.update(code_version="0" * 16, key="made-by-other-code")
    (folder / "run.json").write_text(json.dumps(record))


CORRUPTIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "foreign": (_foreign, "foreign: run.json is for seed"),
    "stale": (_stale, "stale: made by other code (code_version 0000000000000000, now "),
    "truncated": (_truncate, "is unreadable"),
    "unparseable": (lambda f: (f / "predictions.parquet").write_bytes(b"not parquet"), "is unreadable"),
    "missing": (lambda f: (f / "predictions.parquet").unlink(), "is missing"),
    "count": (_miscount, "rows, run.json says n_test="),
    "correct": (lambda f: _rewrite(f, _flip_correct), "disagrees with label == prediction"),
    "duplicate ids": (lambda f: _rewrite(f, lambda d: pd.concat([d, d.iloc[:1]]), recount=True),
                      "duplicate example ids"),
}


def _ok(records: list[RunRecord]) -> list[RunRecord]:
    return [r for r in records if r.status == "ok"]


def test_corrupted_runs_are_reported_left_out_and_rerun(smoke_results: Path, smoke_cache: Path,
                                                        tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(smoke_results / "runs/smoke/digits", results / "runs/smoke/digits")
    filters = RunFilters(tasks=["digits"])
    clean = scan_runs(results, "smoke", include_planned=False)
    n_runs = len(plan_runs(get_suite("smoke"), filters))  # every method on digits, 2 seeds
    assert len(clean) == len(_ok(clean)) == n_runs
    victims = {r.run: name for r, name in zip(clean[: len(CORRUPTIONS)], CORRUPTIONS, strict=True)}
    originals = {r.run: r.predictions() for r in clean if r.run in victims and r.predictions_path.exists()}
    for record in clean:
        if record.run in victims:
            CORRUPTIONS[victims[record.run]][0](record.path)

    scanned = {r.run: r for r in scan_runs(results, "smoke", include_planned=False)}
    for run, name in victims.items():
        assert scanned[run].status == "failed", name
        assert scanned[run].error is not None
        assert scanned[run].error.split(":")[0] in {"corrupt", "foreign", "stale"}
        assert CORRUPTIONS[name][1] in scanned[run].error, (name, scanned[run].error)
    # Never averaged in: the leaderboards count only the intact runs.
    tables = compute_leaderboards(list(scanned.values()), n_resamples=50)
    per_task = tables.per_task
    assert int(per_task["n_failed"].sum()) == len(victims)
    assert int(per_task["n_seeds"].sum()) == n_runs - len(victims)

    # Repaired: the same command reruns exactly the corrupted runs, and gets their predictions back.
    summary = run_suite("smoke", results, filters, cache_dir=smoke_cache)
    assert summary.n_ok == len(victims) and summary.n_skipped == n_runs - len(victims)
    repaired = {r.run: r for r in scan_runs(results, "smoke", include_planned=False)}
    assert all(r.status == "ok" for r in repaired.values())
    for run, frame in originals.items():
        assert repaired[run].predictions().equals(frame), victims[run]


def test_truncated_cache_files_are_rebuilt_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    filters = RunFilters(tasks=["digits"], methods=["finetune"], seeds=[0])
    first = run_suite("smoke", tmp_path / "first", filters, cache_dir=cache)
    assert first.n_ok == 1
    cached = sorted(cache.rglob("*.pt"))
    assert any("fits" in str(p) for p in cached) and any("features" in str(p) for p in cached)
    for path in cached:  # as a full disk or a torn copy would leave them
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    again = run_suite("smoke", tmp_path / "again", filters, cache_dir=cache)
    assert again.n_ok == 1
    assert "recomputing unreadable cache file" in caplog.text  # a stem state
    assert "retraining mnist-seed0-" in caplog.text and "unreadable cache file (" in caplog.text  # a fit
    a, b = (scan_runs(tmp_path / d, "smoke", include_planned=False)[0].predictions() for d in ("first", "again"))
    assert a.equals(b)
