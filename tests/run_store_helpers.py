"""Test helpers that write *generated* runs in the run-store format.

Nothing here is a real result: predictions are synthesised from the correctness arrays a
test asks for, and written exactly as the run store writes them (``run.json`` +
``predictions.parquet`` under ``runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>/``,
plus ``plan.json``), so the leaderboard and report code is exercised on the real format.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmark.files import atomic_write_json
from benchmark.runs.manifest import RunManifest
from benchmark.runs.store import RUN_FILENAME, plan_path, run_dir


def example_ids(n: int, prefix: str = "ex") -> list[str]:
    """Stable example ids, deliberately not in sorted order of their index."""
    return [f"{prefix}-{(i * 7919) % 100003:06d}" for i in range(n)]


def write_run(
    results: Path,
    *,
    suite: str,
    target: str,
    method: str,
    source: str | None,
    seed: int,
    budget: int = 100,
    correct: Sequence[bool] | np.ndarray | None = None,
    status: str = "ok",
    num_labels: int = 3,
    ids: Sequence[str] | None = None,
    shuffle_rows: bool = True,
    synthetic: bool = True,
    write_manifest: bool = True,
    wall_seconds: float = 2.5,
) -> Path:
    """Write one generated run; returns its folder.

    ``correct`` (N,) decides the rows: label drawn at random, prediction = label when
    correct else another label. Rows are shuffled (per seed) so that readers must align by
    id. ``status="failed"`` writes a failed manifest and no predictions;
    ``write_manifest=False`` leaves an interrupted run (predictions but no run.json).
    """
    folder = run_dir(results, suite, target, method, source, budget, seed)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(repr((suite, target, method, source, seed)).encode()))
    n_test = 0
    if status == "ok":
        corr = np.asarray(correct, dtype=bool)
        n_test = corr.size
        the_ids = list(ids) if ids is not None else example_ids(n_test)
        label = rng.integers(0, num_labels, size=n_test)
        prediction = np.where(corr, label, (label + 1) % num_labels)
        probs = np.full((n_test, num_labels), 0.1 / max(1, num_labels - 1), dtype=np.float32)
        probs[np.arange(n_test), prediction] = 0.9
        order = rng.permutation(n_test) if shuffle_rows else np.arange(n_test)
        table = pa.table({
            "id": pa.array([the_ids[i] for i in order], pa.string()),
            "label": pa.array(label[order], pa.int64()),
            "prediction": pa.array(prediction[order], pa.int64()),
            "correct": pa.array(corr[order], pa.bool_()),
            "probabilities": pa.array([list(p) for p in probs[order]], pa.list_(pa.float32())),
        })
        pq.write_table(table, folder / "predictions.parquet")
    if not write_manifest:
        return folder
    manifest = RunManifest(
        status="ok" if status == "ok" else "failed", suite=suite, target=target, source=source,
        method=method, budget=budget, seed=seed, backbone="generated", key=f"k{seed}",
        error=None if status == "ok" else "RuntimeError: generated failure",
        traceback=None if status == "ok" else "Traceback: generated",
        timings={"wall_seconds": wall_seconds, "fit_seconds": wall_seconds * 0.8,
                 "predict_seconds": wall_seconds * 0.2},
        examples_processed=1000 if status == "ok" else 0, n_test=n_test,
        num_labels=num_labels, label_names=[f"c{i}" for i in range(num_labels)],
        task_kind="text", synthetic=synthetic, code_version="test",
        started_at="2024-01-01T00:00:00", finished_at="2024-01-01T00:00:01",
    )
    # A plain write (no fsync) keeps the tests fast; the content is what the run store writes.
    (folder / RUN_FILENAME).write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
    return folder


def write_plan(results: Path, suite: str, runs: Iterable[tuple[str, str, str | None, int]],
               budget: int = 100) -> Path:
    """Write ``plan.json`` from (target, method, source, seed) tuples, all at ``budget``."""
    entries = [{"target": t, "method": m, "source": s, "budget": budget, "seed": seed} for t, m, s, seed in runs]
    return atomic_write_json(plan_path(results, suite), {"suite": suite, "runs": entries})


def simulate_correct(
    rng: np.random.Generator, difficulty: np.ndarray, shift: float, n_seeds: int
) -> np.ndarray:
    """(n_seeds, N) correctness: example i right with probability clip(difficulty[i] + shift)."""
    p = np.clip(difficulty + shift, 0.0, 1.0)
    return rng.random((n_seeds, p.size)) < p


def read_csv(path: Path) -> pd.DataFrame:
    """Read a leaderboard CSV the way a user would (keeping "-" sources as strings)."""
    return pd.read_csv(path, keep_default_na=True)


TOY_SUITE = "toy"
TOY_TARGETS = ("t1", "t2", "t3")
TOY_SEEDS = (0, 1, 2)
PLANTED_POSITIVE = ("finetune", "t2", "t1")  # (method, source, target)
PLANTED_NEGATIVE = ("finetune", "t1", "t2")


def build_toy_results(results: Path, *, n_examples: int = 240, synthetic: bool = True) -> Path:
    """A small generated suite covering every case the leaderboard must handle.

    - ``target_only`` and ``scratch`` (shift -0.2: clearly worse) on t1, t2, t3, seeds 0-2;
    - ``finetune`` on every ordered pair of distinct tasks: +0.25 for t2→t1 (planted
      positive), -0.25 for t1→t2 (planted negative), no true effect elsewhere;
    - ``copy`` (no source) on t1: exactly target_only's correctness (rows shuffled);
    - ``distill`` t1→t3: seed 0 ok, seed 1 failed, seed 2 interrupted (no run.json);
    - ``hybrid`` t1→t3: planned, never run (all missing);
    - ``linear_probe`` on t1: every seed failed.
    """
    rng = np.random.default_rng(12345)
    plan: list[tuple[str, str, str | None, int]] = []

    def run(target: str, method: str, source: str | None, seed: int, **kw: Any) -> None:
        plan.append((target, method, source, seed))
        write_run(results, suite=TOY_SUITE, target=target, method=method, source=source,
                  seed=seed, synthetic=synthetic, **kw)

    for target in TOY_TARGETS:
        difficulty = rng.uniform(0.35, 0.85, n_examples)
        ref = simulate_correct(rng, difficulty, 0.0, len(TOY_SEEDS))
        scratch = simulate_correct(rng, difficulty, -0.2, len(TOY_SEEDS))
        for k, seed in enumerate(TOY_SEEDS):
            run(target, "target_only", None, seed, correct=ref[k])
            run(target, "scratch", None, seed, correct=scratch[k])
            if target == "t1":
                run(target, "copy", None, seed, correct=ref[k])
                run(target, "linear_probe", None, seed, status="failed")
        for source in TOY_TARGETS:
            if source == target:
                continue
            shift = {("t2", "t1"): 0.25, ("t1", "t2"): -0.25}.get((source, target), 0.0)
            fused = simulate_correct(rng, difficulty, shift, len(TOY_SEEDS))
            for k, seed in enumerate(TOY_SEEDS):
                run(target, "finetune", source, seed, correct=fused[k])
        if target == "t3":
            other = simulate_correct(rng, difficulty, 0.0, len(TOY_SEEDS))
            run(target, "distill", "t1", 0, correct=other[0])
            run(target, "distill", "t1", 1, status="failed")
            run(target, "distill", "t1", 2, correct=other[2], write_manifest=False)
            plan.extend(("t3", "hybrid", "t1", seed) for seed in TOY_SEEDS)
    write_plan(results, TOY_SUITE, plan)
    return results
