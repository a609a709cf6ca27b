"""Kill the runner with SIGKILL at many points of a small real suite; every rerun must end
exactly where an uninterrupted run ends (same predictions, same leaderboards).

Each kill point is a (fault point, k) pair: the process sends itself SIGKILL the k-th time it
reaches that point (``benchmark/faults.py``; a point inside a fit kills the fit process, which
stops the command with exit 4): while a temporary file is half written or
complete but not moved into place (predictions, ``run.json``, ``plan.json``, every
leaderboard CSV and report file), between a rerun's ``run.json`` removal and its new
predictions, after each training epoch (source models included), while a stem cache entry
or a source model is saved, and after a run is stored. Every killed command starts on an
empty feature and model cache, so the caches are attacked too. Two commands run at a time,
one torch thread each (the reference too, so predictions are comparable bit for bit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from benchmark.faults import ENV_VAR

pytestmark = pytest.mark.slow  # trains real models in subprocesses

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "benchmark", "run", "--suite", "smoke", "--tasks", "digits",
           "--methods", "target_only,finetune,linear_probe", "--seeds", "0"]
#: (point, how many of its occurrences to try): the subset reaches each at least this often.
POINTS = {"atomic_write.partial": 16, "atomic_write.before_replace": 16, "store.run_json_removed": 3,
          "store.predictions_written": 3, "train.epoch": 12, "stem_cache.before_replace": 4,
          "fit.before_replace": 2, "runner.after_run": 3}
TIMING_COLUMNS = ("wall_seconds_mean",)  # the only figures that differ between two executions


def _run(workdir: Path, fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(workdir / "cache"), "OMP_NUM_THREADS": "1"}
    env.pop(ENV_VAR, None)
    if fault:
        env[ENV_VAR] = fault
    return subprocess.run([*COMMAND, "--results", str(workdir / "results")], cwd=REPO, env=env,
                          capture_output=True, text=True)


def _outcome(results: Path) -> dict[str, pd.DataFrame]:
    """Every predictions file and leaderboard CSV (timing columns dropped), by relative path."""
    out = {str(p.relative_to(results)): pd.read_parquet(p) for p in sorted(results.rglob("predictions.parquet"))}
    for csv in sorted((results / "leaderboards").glob("*.csv")):
        frame = pd.read_csv(csv, keep_default_na=False)
        out[str(csv.relative_to(results))] = frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame])
    return out


def _assert_whole(results: Path) -> None:
    """What a reader would take as finished is whole: temporary files are the only torn ones."""
    for path in results.rglob("*"):
        if path.name.startswith(".") or path.suffix == ".tmp" or not path.is_file():
            continue
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            pd.read_csv(path)


def _kill_and_rerun(workdir: Path, point: str, k: int) -> tuple[str, int, bool, dict[str, pd.DataFrame]]:
    killed = _run(workdir, f"{point}=kill#{k}")
    # Killed itself, or (points inside a fit) its fit process was killed: exit 4, the machine's fault.
    fired = killed.returncode == -9 or (killed.returncode == 4 and "fit process was killed" in killed.stderr)
    if (workdir / "results").exists():
        _assert_whole(workdir / "results")
    rerun = _run(workdir, None)
    assert rerun.returncode == 0, (point, k, rerun.stderr[-2000:])
    return point, k, fired, _outcome(workdir / "results")


def test_sigkill_at_50_points_then_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    reference = _run(tmp_path / "reference", None)
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = _outcome(tmp_path / "reference" / "results")
    assert len([k for k in expected if k.endswith(".parquet")]) == 3
    jobs = [(p, k) for p, n in POINTS.items() for k in range(1, n + 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda job: _kill_and_rerun(tmp_path / f"{job[0]}-{job[1]}", *job), jobs))
    fired = []
    for point, k, did_fire, got in outcomes:
        assert got.keys() == expected.keys(), (point, k)
        for name, frame in expected.items():
            pd.testing.assert_frame_equal(got[name], frame, obj=f"{name} after a kill at {point}#{k}")
        if did_fire:
            fired.append((point, k))
    print(f"{len(fired)} of {len(jobs)} kill points fired; every rerun equals the uninterrupted run")
    assert len(fired) >= 50, f"only {len(fired)} kill points fired: {sorted(set(POINTS) - {p for p, _ in fired})}"
