"""The smoke suite on a local Ray runtime with 2 workers against the local executor, in one process.

Usage: .venv/bin/python benchmarks/bench_ray.py [--suite smoke] [--workers 2] [--tasks a,b]
       [--methods m,n] [--seeds 0,1] (restrict the suite's runs, as ``run`` does)
Tiny (CI smoke test, about 35 s): --tasks digits --methods target_only --seeds 0, with
       BENCHMARK_CACHE_DIR set to a temporary folder (the data set cache follows it; features
       and fits go to a temporary folder anyway)

Each executor runs the whole suite cold (its own empty feature and model cache, its own
results folder). Ray runs one task per CPU with one torch thread each; the local executor
uses every core for one run at a time. Prints the wall time of each, their ratio, Ray's
start-up time, and how many runs gave the local executor's predictions exactly (with one
thread per task instead of the driver's count, float reductions may round differently).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pandas as pd  # noqa: E402
import ray  # noqa: E402
import torch  # noqa: E402

from benchmark.runs.plan import RunFilters, plan_runs  # noqa: E402
from benchmark.runs.ray_executor import RayExecutor  # noqa: E402
from benchmark.runs.runner import run_suite  # noqa: E402
from benchmark.runs.store import RunStore  # noqa: E402
from benchmark.runs.suite_catalog import get_suite  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="smoke")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", default=None, help="comma-separated targets (default: the suite's)")
    parser.add_argument("--methods", default=None, help="comma-separated methods (default: the suite's)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the suite's)")
    args = parser.parse_args()
    filters = RunFilters(tasks=args.tasks.split(",") if args.tasks else None,
                         methods=args.methods.split(",") if args.methods else None,
                         seeds=[int(s) for s in args.seeds.split(",")] if args.seeds else None)
    work = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    try:
        t0 = time.perf_counter()
        local = run_suite(args.suite, work / "local", filters, cache_dir=work / "cache_local")
        local_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        start_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        remote = run_suite(args.suite, work / "ray", filters, cache_dir=work / "cache_ray",
                           executor=RayExecutor(num_workers=args.workers, threads_per_run=1))
        ray_s = time.perf_counter() - t0
        ray.shutdown()
        same = 0
        planned = plan_runs(get_suite(args.suite), filters)
        for spec in planned:
            a = pd.read_parquet(RunStore(work / "local").run_dir(spec) / "predictions.parquet")
            b = pd.read_parquet(RunStore(work / "ray").run_dir(spec) / "predictions.parquet")
            same += bool(a.equals(b))
        print(f"suite {args.suite}: {len(planned)} runs, cold, {os.cpu_count()} CPUs, "
              f"torch threads in the driver {torch.get_num_threads()}")
        print(f"local executor        {local_s:7.1f} s   ({local.line()})")
        print(f"ray, {args.workers} workers x 1 thread {ray_s:7.1f} s   ({remote.line()})")
        print(f"ray start-up          {start_s:7.1f} s (not in the figure above)")
        print(f"ray / local           {ray_s / local_s:7.2f}")
        print(f"runs with the local executor's predictions exactly: {same} of {len(planned)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
