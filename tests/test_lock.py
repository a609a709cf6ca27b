"""One writer per results folder: two real `run` processes, and a lock whose holder was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.runs.lock import LOCK_FILENAME, ResultsBusy, results_lock
from benchmark.runs.store import scan_runs

pytestmark = pytest.mark.slow  # trains real models in subprocesses

REPO = Path(__file__).resolve().parents[1]
HOLD = "import sys, time; from benchmark.runs.lock import results_lock\n" \
       "with results_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(600)\n"


def _holder(results: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(results)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_lock_names_its_holder_and_a_killed_holder_leaves_no_stale_lock(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    proc = _holder(tmp_path)
    try:
        with pytest.raises(ResultsBusy, match=rf"pid {proc.pid} on .* wait for it \(run --wait SECONDS\)"):
            with results_lock(tmp_path):
                pass
        t0 = time.monotonic()
        with pytest.raises(ResultsBusy):
            with results_lock(tmp_path, wait_seconds=0.5):
                pass
        assert time.monotonic() - t0 >= 0.5  # it waited before refusing
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The holder died without cleaning up: its name is still in the file, the lock is free.
    assert (tmp_path / LOCK_FILENAME).stat().st_size > 0
    with results_lock(tmp_path):
        assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_FILENAME).read_text()
    assert "ended without releasing it" in caplog.text
    assert (tmp_path / LOCK_FILENAME).stat().st_size == 0  # released cleanly this time


def test_two_run_processes_on_one_results_folder(tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "benchmark", "run", "--suite", "smoke", "--tasks", "digits",
           "--methods", "target_only,linear_probe", "--seeds", "0", "--results", str(results)]
    first = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (results / LOCK_FILENAME).exists() or not (results / LOCK_FILENAME).stat().st_size:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert second.returncode == 3, second.stderr
    last = second.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: results folder {results} is being written by another run (pid {first.pid} ")
    # A third waits for the first to finish, then finds every run done.
    third = subprocess.run([*cmd, "--wait", "300"], cwd=REPO, env=env, capture_output=True, text=True)
    out, err = first.communicate()
    assert first.returncode == 0, err
    assert third.returncode == 0, third.stderr
    assert "2 runs: 0 ran, 2 already done" in third.stdout
    records = scan_runs(results, "smoke", include_planned=False)
    assert len(records) == 2 and all(r.status == "ok" for r in records)
    assert all(len(r.predictions()) == r.manifest.n_test for r in records)


def test_leaderboard_while_a_run_writes_reads_a_consistent_snapshot(tmp_path: Path) -> None:
    """A run in progress is missing, never failed or torn: each rebuild sees whole runs only."""
    import pandas as pd

    from benchmark.analysis.leaderboard import build_leaderboards
    from benchmark.errors import BenchmarkError

    results = tmp_path / "results"
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "benchmark", "run", "--suite", "smoke", "--tasks", "digits,mnist",
           "--methods", "target_only,finetune,linear_probe", "--seeds", "0,1", "--results", str(results)]
    writer = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[tuple[int, int]] = []  # (ok, missing) runs per snapshot
    while writer.poll() is None:
        try:
            build_leaderboards(results, n_resamples=20)
        except BenchmarkError:  # no runs folder yet
            time.sleep(0.2)
            continue
        per_task = pd.read_csv(results / "leaderboards/per_task.csv")
        assert (per_task["n_failed"] == 0).all()  # nothing half-written is taken for a failed run
        assert (per_task["n_runs"] == per_task["n_seeds"] + per_task["n_missing"]).all()
        seen.append((int(per_task["n_seeds"].sum()), int(per_task["n_missing"].sum())))
    assert writer.communicate() and writer.returncode == 0
    build_leaderboards(results, n_resamples=20)
    final = pd.read_csv(results / "leaderboards/per_task.csv")
    assert int(final["n_seeds"].sum()) == 12 and int(final["n_missing"].sum()) == 0
    assert len(seen) >= 3 and any(missing for _, missing in seen), seen  # snapshots taken mid-run
    assert [ok for ok, _ in seen] == sorted(ok for ok, _ in seen)  # runs only ever appear
