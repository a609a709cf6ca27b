"""What fitting in the fit process costs: the same fits in this process and in the fit process
(``benchmark/runs/fit_process.py``, where the test split is never held), side by side.

Real tasks at the default suite's protocol and larger budget (1,000 target examples): a text
target (conventions) and an image target (digits), with a cheap method (``linear_probe``), the
reference recipe (``target_only``) and a method with a source model (``finetune``). Each fit
runs in-process and isolated, alternately, ``--repeats`` times; the figure is the best of each.
The extra per fit is pickling the context (states, trunk factory, source model) there and the
model back. Starting the fit process is paid once per command and is printed apart.

Usage: .venv/bin/python benchmarks/bench_fit_process.py [--repeats 2] [--suite default]
       [--cases conventions:debates digits:mnist] [--methods linear_probe target_only finetune]
Tiny (CI smoke test, about 25 s): --suite smoke --cases digits:mnist --methods target_only --repeats 1, with
       BENCHMARK_CACHE_DIR set to a temporary folder (the states and fits go to the cache)
"""

from __future__ import annotations

import argparse
import logging
import time

import torch

from benchmark.models.method import FitContext, make_method
from benchmark.models.precision import native_bf16
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob, Workspace

CASES = [("conventions", "debates"), ("digits", "mnist")]
METHODS = ["linear_probe", "target_only", "finetune"]


def context(ws: Workspace, target: str, source: str, method: str) -> FitContext:
    rt = ws.resolve(target)
    budget = max(rt.protocol.train_budgets)
    needs_source = type(make_method(method)).needs_source
    return FitContext(
        backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
        train=ws.states(target, 0, "target", "train", "pretrained", budget),
        validation=ws.states(target, 0, "target", "validation", "pretrained", budget),
        make_trunk=ws.trunk_factory(rt, "pretrained", 0),
        source=ws.fitted(FitJob(source, 0)) if needs_source else None,
        generator=torch.Generator().manual_seed(0))


def case(text: str) -> tuple[str, str]:
    target, sep, source = text.partition(":")
    if not (sep and target and source):
        raise argparse.ArgumentTypeError(f"{text!r}: expected TARGET:SOURCE, e.g. digits:mnist")
    return target, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--suite", default="default", help="the suite whose protocols the fits use")
    parser.add_argument("--cases", type=case, nargs="+", default=CASES, help="TARGET:SOURCE pairs")
    parser.add_argument("--methods", nargs="+", default=METHODS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cpu = "AVX-512 with native bf16" if native_bf16() else "without native bf16"
    ws = Workspace(get_suite(args.suite))
    t0 = time.perf_counter()
    target0, source0 = ("digits", "mnist") if "digits" in ws.suite.targets() else args.cases[0]
    ws.fit_method(make_method("linear_probe"), context(ws, target0, source0, "linear_probe"))  # starts it
    start = time.perf_counter() - t0
    print(f"CPU: {cpu}; torch threads {torch.get_num_threads()}")
    print(f"first isolated fit (starting the fit process included): {start:.1f} s")
    print(f"{'target':<12} {'method':<13} {'in-process s':>12} {'isolated s':>11} {'extra s':>8} {'ratio':>6} same")
    total_in = total_iso = 0.0
    for target, source in args.cases:
        for method in args.methods:
            times: dict[str, list[float]] = {"in": [], "iso": []}
            weights = {}
            for _ in range(args.repeats):
                for mode in ("in", "iso"):
                    ctx = context(ws, target, source, method)
                    t0 = time.perf_counter()
                    if mode == "in":  # the same copies the harness used to hand a method
                        ctx.train, ctx.validation = ctx.train.copy(), ctx.validation.copy()
                        model = make_method(method).fit(ctx)
                    else:
                        model = ws.fit_method(make_method(method), ctx)
                    times[mode].append(time.perf_counter() - t0)
                    weights[mode] = model.head.weight.detach().clone()
            best_in, best_iso = min(times["in"]), min(times["iso"])
            total_in, total_iso = total_in + best_in, total_iso + best_iso
            same = torch.equal(weights["in"], weights["iso"])
            print(f"{target:<12} {method:<13} {best_in:>12.2f} {best_iso:>11.2f} {best_iso - best_in:>8.2f} "
                  f"{best_iso / best_in:>6.2f} {same}")
    print(f"all {len(args.cases) * len(args.methods)} fits: in-process {total_in:.1f} s, isolated {total_iso:.1f} s, "
          f"ratio {total_iso / total_in:.3f}")
    ws.close()


if __name__ == "__main__":
    main()
