"""Cold cost of two suites' grids, priced side by side in one process at one precision.

Prices the default suite as shipped before issue 20 (``benchmarks/suites/default_before_issue20.yaml``)
against today's default. Both grids are priced from the same measurements: seed 0 of the
union of their runs, executed cold (empty feature and fit caches) in this process:

    cost(grid) = test stems (shared by every seed)
               + seeds x (train/validation stems + shared fits + runs, of seed 0)
               + what the old code did on top: task_arithmetic and ties trained their own
                 target_only fit (priced as that fit), and 502 runs added by sequential seeds
                 (the committed 1,732-run results; priced at the old grid's mean run cost)

Left out of both: the transferability stage and the leaderboard rebuilds between sequential
looks (the old grid had more of each). Prints the precision ``auto`` picks here, the cost of
each grid by input family, and the ratio new / old.

Usage: .venv/bin/python benchmarks/bench_grid_cost.py [--precision fp32] [--new SUITE] [--old SUITE]
       [--tasks a,b] [--methods m,n] (restrict both grids to some targets and methods)
Tiny (CI smoke test, about 30 s): --old smoke_groups --new smoke --tasks digits
       --methods target_only,finetune, with BENCHMARK_CACHE_DIR set to a temporary folder (the
       data set cache follows it; features and fits go to a temporary folder anyway)
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from benchmark.models.method import make_method
from benchmark.models.precision import resolve_precision
from benchmark.runs.execute import RunJob, execute_run
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import make_job, run_key, shared_fits
from benchmark.runs.store import RunId
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.suites import Suite
from benchmark.runs.workspace import Workspace

HERE = Path(__file__).resolve().parent
OLD_SUITE = HERE / "suites" / "default_before_issue20.yaml"
#: Runs the old default's sequential seeds added (5 -> up to 8) in its committed results.
OLD_SEQUENTIAL_RUNS = 502
REFITTING = ("task_arithmetic", "ties")  # methods that retrained target_only's fit before issue 20


def _family(ws: Workspace, run: RunId) -> str:
    return ws.resolve(run.target).task.family


def price(suite: Suite, ws: Workspace, filters: RunFilters, measured: dict[str, float],
          fit_seconds: dict[str, float], stems: dict[tuple[str, str], float], old: bool) -> dict[str, float]:
    """Seconds by family (and 'all') of ``suite``'s planned grid from the seed-0 measurements."""
    runs = plan_runs(suite, replace(filters, seeds=[0]))
    n_seeds = len(filters.seeds or suite.seeds)
    out: dict[str, float] = defaultdict(float)
    jobs = [make_job(ws, r, run_key(ws, r, make_method(r.method)), make_method(r.method)) for r in runs]
    for job in jobs:
        fam = _family(ws, job.run)
        seconds = measured[job.key]
        if old and job.run.method in REFITTING and job.target_fit is not None:
            seconds += fit_seconds[ws.fit_key(job.target_fit)]
        out[fam] += n_seeds * seconds
    for fit in shared_fits(ws, jobs)[1]:
        out[ws.resolve(fit.task).task.family] += n_seeds * fit_seconds[ws.fit_key(fit)]
    for task in sorted({r.target for r in runs} | {s for r in runs for s in r.sources}):
        fam = ws.resolve(task).task.family
        out[fam] += stems.get((task, "test"), 0.0) + n_seeds * stems.get((task, "per_seed"), 0.0)
    if old:  # the sequential runs in proportion to the planned runs priced (all, or --tasks')
        per_run = sum(out.values()) / (n_seeds * len(runs))
        out["sequential"] = sequential_runs(suite, filters) * per_run
    out["all"] = sum(out.values())
    return out


def sequential_runs(old: Suite, filters: RunFilters) -> float:
    """The old grid's sequential runs, scaled to the share of its planned runs ``filters`` keep."""
    return OLD_SEQUENTIAL_RUNS * len(plan_runs(old, filters)) / len(plan_runs(old, RunFilters()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", default="fp32", choices=("auto", "bf16", "fp32"))
    parser.add_argument("--old", default=str(OLD_SUITE))
    parser.add_argument("--new", default="default")
    parser.add_argument("--tasks", default=None, help="comma-separated targets (default: all)")
    parser.add_argument("--methods", default=None, help="comma-separated methods (default: each suite's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"precision auto picks here: {resolve_precision('auto')}; pricing at {args.precision}")
    filters = RunFilters(tasks=args.tasks.split(",") if args.tasks else None,
                         methods=args.methods.split(",") if args.methods else None)
    suites = {"old": get_suite(args.old).with_precision(args.precision),
              "new": get_suite(args.new).with_precision(args.precision)}
    with tempfile.TemporaryDirectory(prefix="bench-grid-") as tmp:
        cache = Path(tmp)
        spaces = {k: Workspace(s, cache_dir=cache) for k, s in suites.items()}
        measured: dict[str, float] = {}
        fit_seconds: dict[str, float] = {}
        stems: dict[tuple[str, str], float] = defaultdict(float)
        encoded: set[tuple[object, ...]] = set()
        for name, suite in suites.items():
            ws = spaces[name]
            runs = plan_runs(suite, replace(filters, seeds=[0]))
            # Stems first, timed apart: the test split's are shared by every seed.
            for r in runs:
                for task, role, budget in ((r.target, "target", r.budget),) + tuple(
                        (s, "source", None) for s in r.sources):
                    init = type(make_method(r.method)).stem_init
                    for split in ("test", "train", "validation") if role == "target" else ("train", "validation"):
                        if (task, role, budget, init, split) in encoded:
                            continue
                        encoded.add((task, role, budget, init, split))
                        t0 = time.perf_counter()
                        ws.states(task, 0, role, split, init, budget)  # type: ignore[arg-type]
                        part = "test" if split == "test" and init == "pretrained" else "per_seed"
                        stems[(task, part)] += time.perf_counter() - t0
            jobs: list[RunJob] = []
            for r in runs:  # a run both grids share (same content key: protocol, data, code) runs once
                method = make_method(r.method)
                key = run_key(ws, r, method)
                if key not in measured and key not in {j.key for j in jobs}:
                    jobs.append(make_job(ws, r, key, method))
            for fit in shared_fits(ws, jobs)[1]:
                key = ws.fit_key(fit)
                if key not in fit_seconds:
                    ws.fitted(fit)
                    fit_seconds[key] = float(ws.fit_record(fit)["fit_seconds"])
            for job in jobs:
                outcome = execute_run(ws, job)
                if not outcome.ok:
                    print(f"failed: {job.run.label()}: {outcome.manifest.error}")
                measured[job.key] = float(outcome.manifest.timings["wall_seconds"])
            print(f"{name}: seed 0 measured ({len(runs)} runs)", flush=True)
        costs = {k: price(suites[k], spaces[k], filters, measured, fit_seconds, stems, old=k == "old")
                 for k in suites}
    n_old = len(plan_runs(suites["old"], filters)) + round(sequential_runs(suites["old"], filters))
    n_new = len(plan_runs(suites["new"], filters))
    print(f"\n{'grid':<8}{'runs':>7}{'text s':>10}{'image s':>10}{'sequential s':>14}{'total s':>10}{'min':>8}")
    for k, n in (("old", n_old), ("new", n_new)):
        c = costs[k]
        print(f"{k:<8}{n:>7}{c.get('text', 0):>10.0f}{c.get('image', 0):>10.0f}{c.get('sequential', 0):>14.0f}"
              f"{c['all']:>10.0f}{c['all'] / 60:>8.1f}")
    print(f"\nratio new / old = {costs['new']['all'] / costs['old']['all']:.3f} (target <= 0.333)")
    by_method: dict[tuple[str, str], list[float]] = defaultdict(list)
    for k in suites:
        ws = spaces[k]
        for r in plan_runs(suites[k], replace(filters, seeds=[0])):
            by_method[(k, r.method)].append(measured[run_key(ws, r, make_method(r.method))])
    print("\nseconds per run at seed 0 (mean, by method): " + "; ".join(
        f"{k} {m} {sum(v) / len(v):.1f}" for (k, m), v in sorted(by_method.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
