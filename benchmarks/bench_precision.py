"""The same small grid at fp32 and at bf16, side by side in one process, and what ``auto`` picks.

The grid is issue 20's: conventions -> debates and mnist -> digits, ``target_only`` and
``finetune``, the smoke protocol, seed 0, each repetition on an empty feature and fit cache
(so stem encoding, fits and runs are all in the figure). On a CPU with native bf16
(AVX512_BF16 / AMX) bf16 is faster; elsewhere PyTorch emulates it, 10-20x slower, which is
why ``auto`` picks fp32 there.

Usage: .venv/bin/python benchmarks/bench_precision.py [--repeats 2] [--tasks a,b] [--methods m,n]
Tiny (CI smoke test, about 30 s): --repeats 1 --tasks digits --methods target_only, with
       BENCHMARK_CACHE_DIR set to a temporary folder (the data set cache follows it; features
       and fits go to a temporary folder anyway)
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch

from benchmark.models.precision import native_bf16, resolve_precision
from benchmark.runs.plan import RunFilters
from benchmark.runs.runner import run_suite

HERE = Path(__file__).resolve().parent
SUITE = """\
name: precision_grid
description: "issue 20's 4-run grid at the smoke protocol"
tasks: [conventions, debates, mnist, digits]
pairs: ["conventions -> debates", "mnist -> digits"]
seeds: [0]
methods: [target_only, finetune]
protocols:
  text:
    backbone: minilm-l6
    trainable: top-1
    tokens: 48
    pair_encoding: siamese
    pair_tokens: 128
    budgets: {train: 96, validation: 48, test: 96, source_train: 96}
    train: {max_epochs: 2, patience: 1, batch_size: 16, lr: 2.0e-4, head_lr: 2.0e-3}
  image:
    backbone: efficientnet-lite0
    trainable: top-1
    budgets: {train: 96, validation: 48, test: 96, source_train: 96}
    train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
"""


def one(precision: str, work: Path, i: int, tasks: list[str] | None = None,
        methods: list[str] | None = None) -> tuple[float, int]:
    """Seconds of the grid at ``precision`` on an empty cache, and how many runs were ok."""
    root = work / f"{precision}-{i}"
    suite = root / "suite.yaml"
    root.mkdir()
    suite.write_text(SUITE)
    t0 = time.perf_counter()
    filters = RunFilters(precision=precision, tasks=tasks, methods=methods)
    summary = run_suite(str(suite), root / "results", filters, cache_dir=root / "cache")
    return time.perf_counter() - t0, summary.n_ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tasks", default=None, help="comma-separated targets of the grid (default: all)")
    parser.add_argument("--methods", default=None, help="comma-separated methods of the grid (default: all)")
    args = parser.parse_args()
    tasks = args.tasks.split(",") if args.tasks else None
    methods = args.methods.split(",") if args.methods else None
    logging.basicConfig(level=logging.WARNING)
    native, why = native_bf16("cpu")
    print(f"CPU: {torch.backends.cpu.get_cpu_capability()}; native bf16: {native} ({why}); torch threads "
          f"{torch.get_num_threads()}")
    print(f"precision auto picks: {resolve_precision('auto')}")
    seconds: dict[str, list[float]] = {"fp32": [], "bf16": []}
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as tmp:
        for i in range(args.repeats):
            for precision in seconds:  # interleaved, so drift in the machine hits both
                s, ok = one(precision, Path(tmp), i, tasks, methods)
                seconds[precision].append(s)
                print(f"  {precision} repeat {i}: {s:.1f} s ({ok} runs ok)", flush=True)
    fp32, bf16 = min(seconds["fp32"]), min(seconds["bf16"])
    print(f"\nbest of {args.repeats}: fp32 {fp32:.1f} s, bf16 {bf16:.1f} s; bf16 / fp32 = {bf16 / fp32:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
