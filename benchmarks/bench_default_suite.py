"""Wall time of `python -m benchmark run --all` on the default suite, cold and resumed.

Runs the real command in a fresh results folder with an empty feature/model cache (the
offline data set cache is kept: it is built by setup-time reads, not by the suite), then
runs it again and checks that the second run changes no file under runs/. Prints:

    cold_run_seconds, resumed_run_seconds, runs, failed, runs_files_unchanged

Usage: .venv/bin/python benchmarks/bench_default_suite.py [--seeds 0,1,2] [--keep DIR]
       [--executor ray --num-workers 2] [--suite S] [--tasks a,b] [--methods m,n]
Tiny (CI smoke test, about 20 s): --suite smoke --tasks digits --methods target_only --seeds 0
       (``--suite``/``--tasks``/``--methods`` are passed to ``run`` as they are; with
       BENCHMARK_HOME and BENCHMARK_CACHE_DIR set to temporary folders nothing is shared)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the suite's)")
    parser.add_argument("--suite", default=None, help="run's --suite (default: run's, the default suite)")
    parser.add_argument("--tasks", default=None, help="run's --tasks: comma-separated targets (default: all)")
    parser.add_argument("--methods", default=None, help="run's --methods: comma-separated (default: the suite's)")
    parser.add_argument("--keep", default=None, help="copy the results folder here afterwards")
    parser.add_argument("--executor", default="local", choices=("local", "ray"))
    parser.add_argument("--num-workers", default=None, help="with --executor ray: workers of the local runtime")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-default-"))
    results, cache = work / "results", work / "cache"
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    # The standardised data sets stay in the shared cache: point the task cache there.
    shared = Path(os.environ.get("BENCHMARK_HOME", Path.home() / ".cache" / "benchmark")) / "cache" / "tasks"
    cache.mkdir(parents=True)
    if shared.exists():
        (cache / "tasks").symlink_to(shared)
    cmd = [sys.executable, "-m", "benchmark", "run", "--all", "--results", str(results)]
    if args.seeds:
        cmd += ["--seeds", args.seeds]
    for flag, value in (("--suite", args.suite), ("--tasks", args.tasks), ("--methods", args.methods)):
        if value:
            cmd += [flag, value]
    cmd += ["--executor", args.executor] + (["--num-workers", args.num_workers] if args.num_workers else [])
    t0 = time.perf_counter()
    cold = subprocess.run(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    cold_seconds = time.perf_counter() - t0
    before = digest(results / "runs")
    t1 = time.perf_counter()
    warm = subprocess.run(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    warm_seconds = time.perf_counter() - t1
    unchanged = digest(results / "runs") == before
    records = [json.loads(p.read_text()) for p in (results / "runs").rglob("run.json")]
    print(f"cold_run_seconds {cold_seconds:.1f}")
    print(f"resumed_run_seconds {warm_seconds:.1f}")
    print(f"runs {len(records)}")
    print(f"failed {sum(r['status'] != 'ok' for r in records)}")
    print(f"exit_codes {cold.returncode} {warm.returncode}")
    print(f"runs_files_unchanged {unchanged}")
    by_method: dict[str, list[float]] = {}
    for r in records:
        by_method.setdefault(r["method"], []).append(r["timings"]["wall_seconds"])
    for method, secs in sorted(by_method.items()):
        print(f"seconds_per_run {method} mean={sum(secs) / len(secs):.2f} total={sum(secs):.0f} n={len(secs)}")
    if args.keep:
        shutil.copytree(results, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
