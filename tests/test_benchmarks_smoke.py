"""The maintained benchmark scripts run, at tiny sizes, so they cannot rot (dated one-off
studies live in experiments/ and are not run). Each prints its table; here only the exit code
and a non-empty table are checked: the figures are the scripts' business at full size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TINY = {
    "bench_merge_all.py": ["--reps", "5", "--examples", "100"],
    "bench_compare_ties.py": ["--reps", "5", "--examples", "50"],
    "bench_pooled_intervals.py": ["--reps", "10"],
    "bench_stats.py": ["--seeds", "3", "--examples", "200", "--resamples", "100", "--repeat", "1"],
    "bench_critical.py": [],
    "bench_calibration.py": ["--per-target-only", "--per-target", "10"],
}


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_maintained_benchmark_runs_at_a_tiny_size(script: str) -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *TINY[script]], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) >= 3, done.stdout


def test_every_maintained_benchmark_is_smoke_run_or_listed_as_training() -> None:
    """A new script in benchmarks/ joins TINY (or TRAINING, for the ones that train real models,
    which still need a tiny mode: issue 26)."""
    training = {"bench_controls.py", "bench_default_suite.py", "bench_fit_process.py", "bench_grid_cost.py",
                "bench_precision.py", "bench_projection.py", "bench_ray.py"}
    scripts = {p.name for p in (REPO / "benchmarks").glob("bench_*.py")}
    assert scripts == set(TINY) | training, sorted(scripts ^ (set(TINY) | training))
