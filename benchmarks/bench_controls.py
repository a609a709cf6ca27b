"""Which controls give their expected verdict on the default suite's targets, at which budget?

Usage: python benchmarks/bench_controls.py [--budget 100] [--seeds 0 1 2 3 4]
       [--methods target_only finetune distill hybrid] [--suite default] [--tasks T ...]
       [--controls more shuffled] [--keep DIR]
Tiny (CI smoke test, about 20 s): --suite smoke --tasks digits --budget 48 --seeds 0
       --methods target_only finetune --controls more, with BENCHMARK_CACHE_DIR set to a
       temporary folder (the data set cache follows it; features and fits are temporary anyway)

Runs the default suite's targets and protocols (``benchmark/runs/suite_files/default.yaml``;
``--suite``: another suite's, ``--tasks``: some of its targets) with ``controls: [more,
shuffled]`` (or ``--controls``), no real pairs, the target train budget set to ``--budget``,
through the product (``run_suite`` into a temporary results folder with its own cache, then
the leaderboard builder), and prints per target and method: the reference accuracy, each
control's gain with its 95% CI, MDE and verdict against the expected one (one seed: no CI).
Runtime (measured, budget 100, 5 seeds, 4 methods, 2 CPU cores): printed on the last line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from benchmark.pipeline import RunRequest, run_pipeline  # noqa: E402
from benchmark.runs.suite_catalog import get_suite  # noqa: E402


def suite_file(folder: Path, budget: int, seeds: list[int], methods: list[str], base: str = "default",
               tasks: list[str] | None = None, controls: tuple[str, ...] = ("more", "shuffled")) -> Path:
    suite = get_suite(base)
    default = yaml.safe_load(Path(suite.file).read_text(encoding="utf-8"))
    for protocol in default["protocols"].values():
        protocol["budgets"]["train"] = budget
    for key in ("control_budgets", "max_seeds"):  # planned seeds only, controls at this budget
        default.pop(key, None)
    targets = list(suite.targets())
    for task in tasks or []:
        if task not in targets:
            raise SystemExit(f"--tasks {task}: not a target of suite {base!r} (its targets: {', '.join(targets)})")
    default.update(name=f"controls_{budget}", description=f"{base} targets, controls only, budget {budget}",
                   tasks=list(tasks or targets), pairs=[], controls=list(controls), seeds=seeds,
                   methods=methods)
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(default), encoding="utf-8")
    return path


def num(value: object) -> float:
    """A leaderboard figure; one seed has no interval (an empty cell): nan."""
    return float(value) if value != "" else float("nan")  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=["target_only", "finetune", "distill", "hybrid"])
    parser.add_argument("--suite", default="default", help="the suite whose targets and protocols to run")
    parser.add_argument("--tasks", nargs="+", help="only these targets of the suite (default: all)")
    parser.add_argument("--controls", nargs="+", default=["more", "shuffled"], choices=["more", "shuffled"])
    parser.add_argument("--keep", type=Path, help="keep the results folder here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench_controls_"))
    try:
        results = work / "results"
        suite = str(suite_file(work, args.budget, args.seeds, args.methods, args.suite, args.tasks,
                               tuple(args.controls)))
        summary = run_pipeline(RunRequest(suite, results, cache_dir=work / "cache"))  # what `run` does
        tm = pd.read_csv(results / "leaderboards" / "transfer_matrix.csv", keep_default_na=False)
        tm = tm[tm["control"] != ""]
        print(f"controls at target budget {args.budget}, seeds {args.seeds}: {summary.line()}")
        print(f"{'target':16s} {'method':9s} {'control':20s} {'ref acc':>8s} {'gain':>7s} "
              f"{'95% CI':>16s} {'MDE':>6s}  verdict (expected)")
        for r in tm.sort_values(["target", "method", "source"]).itertuples(index=False):
            mark = "ok" if r.verdict == r.control else "MISS"
            print(f"{r.target:16s} {r.method:9s} {r.source:20s} {100 * num(r.reference_accuracy):7.1f}% "
                  f"{100 * num(r.gain):+6.1f} [{100 * num(r.ci_low):+6.1f}, {100 * num(r.ci_high):+6.1f}] "
                  f"{100 * num(r.mde):5.1f}  {r.verdict} ({r.control}) {mark}")
        hits = (tm["verdict"] == tm["control"]).groupby([tm["method"], tm["control"]]).agg(["sum", "count"])
        print("\nexpected verdicts per method and control (hits / pairs):")
        for (method, control), row in hits.iterrows():
            print(f"  {method:9s} {control:8s} {int(row['sum'])}/{int(row['count'])}")
        if args.keep:
            shutil.copytree(results, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s (load average {os.getloadavg()[1]:.1f})",
          file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
