"""Project a suite's wall time on N workers from per-run costs measured on one worker.

Usage: .venv/bin/python benchmarks/bench_projection.py [--suite default] [--results results]
       [--workers 1,2,4,8,16,32]
Tiny (CI smoke test, about 30 s with the sample): measure a tiny sample first,
       ``python -m benchmark run --suite smoke --tasks digits --methods target_only
       --seeds 0 --results TMP``, then ``--suite smoke --results TMP --workers 1,2,4``

Measure a sample of the suite's runs on one worker of the kind you will rent (e.g. one GPU:
``python -m benchmark run --suite full --seeds 0 --results sample``), then point this
script at that results folder. Every planned run gets the mean measured cost of its
(method, target, budget), else of its (method, input family); every source model its
measured training time (``reused_fit`` records, or the mean source fit). Source models come
first, runs only after the model they need; the schedule is greedy (longest job first on
the first free worker), as Ray's and the local executor's would be. Prints the projected
wall time per worker count, the total work, and the critical path that no worker count
beats. Coordination costs (Ray start-up, shipping weights) are not modelled: on this
machine they were 2.3 s per start and within noise per run (benchmarks/bench_ray.py).
"""

from __future__ import annotations

import argparse
import heapq
import json
import statistics
from collections import defaultdict
from pathlib import Path

from benchmark.data.task import get_task
from benchmark.models.method import METHODS
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.suite_catalog import get_suite


def measured(results: Path, suite: str) -> tuple[dict[tuple[str, ...], list[float]], dict[str, list[float]]]:
    """Run seconds by (method, target, budget) and by (method, family); source fit seconds by task."""
    runs: dict[tuple[str, ...], list[float]] = defaultdict(list)
    sources: dict[str, list[float]] = defaultdict(list)
    for path in (results / "runs" / suite).rglob("run.json"):
        record = json.loads(path.read_text())
        if record.get("status") != "ok":
            continue
        seconds = float(record["timings"]["wall_seconds"])
        family = get_task(record["target"]).family
        runs[(record["method"], record["target"], str(record["budget"]))].append(seconds)
        runs[(record["method"], family)].append(seconds)
        if record.get("reused_fit"):  # run.json records null when the run reused no fit
            sources[record["target"]].append(float(record["reused_fit"]["fit_seconds"]))
    return runs, sources


def makespan(sources: list[float], runs: list[tuple[float, int | None]], workers: int) -> float:
    """Greedy schedule: sources longest first, then runs longest first, each after its source."""
    free = [0.0] * workers
    done: list[float] = []
    for cost in sorted(sources, reverse=True):
        start = heapq.heappop(free)
        done.append(start + cost)
        heapq.heappush(free, start + cost)
    end = max(done, default=0.0)
    for cost, needs in sorted(runs, key=lambda r: -r[0]):
        start = max(heapq.heappop(free), done[needs] if needs is not None else 0.0)
        heapq.heappush(free, start + cost)
        end = max(end, start + cost)
    return end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="default")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--workers", default="1,2,4,8,16,32")
    args = parser.parse_args()
    suite = get_suite(args.suite)
    runs_by, sources_by = measured(args.results, suite.name)
    if not runs_by:
        raise SystemExit(f"no finished runs of suite {suite.name!r} in {args.results}; measure a sample first")
    all_sources = [s for v in sources_by.values() for s in v]
    plan = plan_runs(suite, RunFilters())
    source_ids: dict[tuple[str, int], int] = {}
    source_costs: list[float] = []
    jobs: list[tuple[float, int | None]] = []
    unknown = 0
    for run in plan:
        family = get_task(run.target).family
        samples = runs_by.get((run.method, run.target, str(run.budget))) or runs_by.get((run.method, family))
        if not samples:
            unknown += 1
            continue
        needs = None
        if run.source_task and METHODS.get(run.method).needs_source:
            key = (run.source, run.seed)
            if key not in source_ids:
                source_ids[key] = len(source_costs)
                costs = sources_by.get(run.source) or all_sources
                source_costs.append(statistics.mean(costs) if costs else 0.0)
            needs = source_ids[key]
        jobs.append((statistics.mean(samples), needs))
    work = sum(c for c, _ in jobs) + sum(source_costs)
    print(f"suite {suite.name}: {len(plan)} planned runs ({len(jobs)} with a measured cost, {unknown} without), "
          f"{len(source_costs)} source models; costs from {args.results}")
    print(f"total work {work / 3600:.2f} worker-hours")
    one = makespan(source_costs, jobs, 1)
    for n in (int(x) for x in args.workers.split(",")):
        span = makespan(source_costs, jobs, n)
        print(f"  {n:3d} workers: {span / 60:8.1f} min   speed-up {one / span:5.1f}x")
    critical = max(source_costs, default=0.0) + max((c for c, _ in jobs), default=0.0)
    print(f"critical path (longest source model + longest run): {critical:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
