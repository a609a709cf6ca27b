"""The maintained benchmark scripts run, at tiny sizes, so they cannot rot (dated one-off
studies live in experiments/ and are not run). Each prints its table; here only the exit code
and a non-empty table are checked: the figures are the scripts' business at full size.

The ones that train real models (TRAINING) run on one small image task (digits) of the
shipped ``smoke`` suite's protocol, each in 15-45 s on 2 CPU cores, so they are marked slow
(``scripts/test.sh --fast`` leaves them out). Their caches and results go to the test's
temporary folder: BENCHMARK_HOME and BENCHMARK_CACHE_DIR point there, and the scripts write
their results into temporary folders of their own (or ``{tmp}``); nothing is downloaded."""

from __future__ import annotations

import os
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

#: Scripts that train real models, at a tiny real configuration ("{tmp}": the test's folder).
TRAINING = {
    "bench_controls.py": ["--suite", "smoke", "--tasks", "digits", "--budget", "48", "--seeds", "0",
                          "--methods", "target_only", "finetune", "--controls", "more"],
    "bench_default_suite.py": ["--suite", "smoke", "--tasks", "digits", "--methods", "target_only", "--seeds", "0"],
    "bench_fit_process.py": ["--suite", "smoke", "--cases", "digits:mnist", "--methods", "target_only",
                             "--repeats", "1"],
    "bench_grid_cost.py": ["--old", "smoke_groups", "--new", "smoke", "--tasks", "digits",
                           "--methods", "target_only,finetune"],
    "bench_precision.py": ["--repeats", "1", "--tasks", "digits", "--methods", "target_only"],
    "bench_projection.py": ["--suite", "smoke", "--results", "{tmp}/sample", "--workers", "1,2,4"],
    "bench_ray.py": ["--suite", "smoke", "--tasks", "digits", "--methods", "target_only", "--seeds", "0"],
}
#: What a script needs run first: bench_projection.py prices a suite from a measured sample.
BEFORE = {
    "bench_projection.py": ["-m", "benchmark", "run", "--suite", "smoke", "--tasks", "digits",
                            "--methods", "target_only", "--seeds", "0", "--results", "{tmp}/sample"],
}
#: Python packages a script needs beyond the test install (skipped with the reason when absent).
NEEDS = {"bench_ray.py": "ray"}


def offline_env(tmp: Path | None = None) -> dict[str, str]:
    """No network; with ``tmp``, the benchmark's data and caches live there, not in the user's."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if tmp is not None:
        env.update(BENCHMARK_HOME=str(tmp / "home"), BENCHMARK_CACHE_DIR=str(tmp / "cache"))
    return env


def check_table(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) >= 3, done.stdout


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_maintained_benchmark_runs_at_a_tiny_size(script: str) -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *TINY[script]], cwd=REPO,
                          env=offline_env(), capture_output=True, text=True, timeout=300)
    check_table(done)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TRAINING))
def test_a_training_benchmark_runs_at_a_tiny_size(script: str, tmp_path: Path) -> None:
    if script in NEEDS:
        pytest.importorskip(NEEDS[script], reason=f"{script} needs {NEEDS[script]} (pip install '.[test]')")
    env = offline_env(tmp_path)

    def args(argv: list[str]) -> list[str]:
        return [a.replace("{tmp}", str(tmp_path)) for a in argv]

    if script in BEFORE:
        first = subprocess.run([sys.executable, *args(BEFORE[script])], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr[-2000:]
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args(TRAINING[script])], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)
    check_table(done)


def test_every_maintained_benchmark_is_smoke_run() -> None:
    """A new script in benchmarks/ joins TINY (or TRAINING, if it trains real models)."""
    scripts = {p.name for p in (REPO / "benchmarks").glob("bench_*.py")}
    assert not set(TINY) & set(TRAINING)
    assert scripts == set(TINY) | set(TRAINING), sorted(scripts ^ (set(TINY) | set(TRAINING)))
