"""Where a run's time goes, and what each speed lever buys, measured side by side in one process.

Usage: .venv/bin/python experiments/2026-11_speed_issue20.py [--repeats 3] [--results results]

Runs of the default suite at seed 0 (stem states and source models are computed first and
not timed, except in the cache section). Every figure is a median over ``--repeats``, the
variants of a comparison interleaved, so the ratios hold on a noisy machine.

1. Levers, cumulative (each row adds one change to the row above; the last row is the code
   as it is): "before" is this issue's starting point: SDPA attention (PyTorch's flash
   kernel for CPU), a batch gathered example by example, AdamW looping over parameters.
2. Harness vs bare loop: ``execute_run`` plus the store's write of predictions and
   ``run.json``, against a plain PyTorch loop doing the same work (same states, model, batch
   order, steps, validation per epoch, test prediction), no records, no files.
3. Frozen-feature cache: a run with its stem states in memory, loaded from the disk cache,
   or computed (a cold cache: what every run would pay without one).
4. Seeds together: the top block's forward and backward for 5 seeds, one after another vs
   ``torch.func.stack_module_state`` + ``vmap`` over the 5 weight sets.
5. Fits served twice: ``target_only`` runs whose fit is a source model's (``reused_fit`` in
   ``run.json``) in the results folder, and the training time they did not spend again.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # bench_stats.call_seconds

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from bench_stats import call_seconds  # noqa: E402
from torch.func import functional_call, stack_module_state  # noqa: E402

from benchmark.models.backbones.base import States, autocast  # noqa: E402
from benchmark.models.training import Classifier, bucketed_order, new_head, predict_logits  # noqa: E402
from benchmark.runs.execute import RunJob, execute_run  # noqa: E402
from benchmark.runs.store import NO_SOURCE, RunId, RunStore  # noqa: E402
from benchmark.runs.suite_catalog import get_suite  # noqa: E402
from benchmark.runs.workspace import FitJob, Workspace  # noqa: E402

SUITE = "default"
#: (target, method, source, budget): text and image, reference and fusion, both budgets.
RUNS = [("rotten_tomatoes", "target_only", NO_SOURCE, 1000), ("conventions", "finetune", "debates", 100),
        ("mnist", "target_only", NO_SOURCE, 1000), ("digits", "hybrid", "mnist", 100)]
TEXT_TARGETS = {"rotten_tomatoes", "conventions", "debates"}


def job(target: str, method: str, source: str, budget: int) -> RunJob:
    needs = FitJob(source, 0) if source != NO_SOURCE else None
    return RunJob(RunId(SUITE, target, method, source, budget, 0), "bench", {}, source_fits=(needs,) if needs else ())


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    return statistics.median(call_seconds(fn, repeats))


def _batch_one_by_one(self: States, index: Any) -> dict[str, torch.Tensor]:
    """States.batch before this issue: one copy per example."""
    idx = torch.as_tensor(index, dtype=torch.long)
    if self.lengths is None:
        return {"x": self.data[idx]}
    t_max = int(self.lengths[idx].max())
    x = self.data.new_zeros((len(idx), t_max, self.data.shape[1]))
    mask = torch.zeros((len(idx), t_max), dtype=torch.long)
    for row, i in enumerate(idx.tolist()):
        start, end = int(self._offsets[i]), int(self._offsets[i + 1])
        x[row, : end - start] = self.data[start:end]
        mask[row, : end - start] = 1
    out = {"x": x, "mask": mask}
    if self.first is not None:
        out["segment"] = (torch.arange(t_max)[None, :] >= self.first[idx][:, None]).long()
    return out


@contextmanager
def levers(ws: Workspace, attention: str, gather: bool, fused: bool) -> Iterator[None]:
    """Switch the three levers; models built under the old attention are dropped."""
    batch, adamw = States.batch, torch.optim.AdamW
    for name in TEXT_TARGETS:
        backbone: Any = ws.resolve(name).backbone
        backbone.config._attn_implementation = attention
    ws._pretrained.clear()  # trunks (and their configs) are copies of these
    ws._fits.clear()  # shared fits: reloaded from disk into skeletons built under ``attention``
    if not gather:
        States.batch = _batch_one_by_one  # type: ignore[method-assign]
    if not fused:
        def adamw_loop(*args: Any, **kwargs: Any) -> torch.optim.Optimizer:
            return adamw(*args, **{**kwargs, "fused": False})

        torch.optim.AdamW = adamw_loop  # type: ignore[assignment, misc]
    try:
        yield
    finally:
        States.batch, torch.optim.AdamW = batch, adamw  # type: ignore[method-assign, misc]
        for name in TEXT_TARGETS:
            restored: Any = ws.resolve(name).backbone
            restored.config._attn_implementation = "eager"
        ws._pretrained.clear()
        ws._fits.clear()


def lever_section(ws: Workspace, repeats: int) -> None:
    rows = [("before (sdpa, per-example gather, AdamW loop)", "sdpa", False, False),
            ("+ eager attention", "eager", False, False),
            ("+ batched gather", "eager", True, False),
            ("+ fused AdamW (now)", "eager", True, True)]
    times: dict[str, list[float]] = {label: [] for label, *_ in rows}
    for spec in RUNS:
        for label, attention, gather, fused in rows:
            with levers(ws, attention, gather, fused):
                execute_run(ws, job(*spec))  # warm: the source model is loaded, states are in memory
                times[label].append(median_seconds(partial(execute_run, ws, job(*spec)), repeats))
    print("\n1. Levers, cumulative (seconds per run, median of", repeats, ")")
    names = [f"{t[:8]}/{m}/{b}" for t, m, _, b in RUNS]
    print(f"{'':48s}" + "".join(f"{n:>26s}" for n in names) + f"{'sum':>9s}{'speed-up':>10s}")
    base = sum(times[rows[0][0]])
    for label, *_ in rows:
        t = times[label]
        print(f"{label:48s}" + "".join(f"{x:26.2f}" for x in t) + f"{sum(t):9.2f}{base / sum(t):9.2f}x")


def bare_loop(ws: Workspace, target: str, budget: int) -> torch.Tensor:
    """target_only by hand: the same states, model, batch order, steps and selection."""
    rt = ws.resolve(target)
    cfg = rt.protocol.train
    train = ws.states(target, 0, "target", "train", "pretrained", budget)
    val = ws.states(target, 0, "target", "validation", "pretrained", budget)
    test = ws.states(target, 0, "target", "test", "pretrained", budget)
    g = torch.Generator().manual_seed(0)
    head = new_head(rt.backbone.feature_dim, rt.task.num_labels, g)
    model = Classifier(ws.trunk_factory(rt, "pretrained", 0)(), head)
    params = [{"params": list(model.head.parameters()), "lr": cfg.head_lr},
              {"params": [p for p in model.trunk.parameters() if p.requires_grad], "lr": cfg.lr}]
    opt = torch.optim.AdamW(params, weight_decay=cfg.weight_decay, fused=True)
    passes = max(1, -(-cfg.min_epoch_examples // len(train)))
    best, best_state, stale = -1.0, None, 0
    for _ in range(cfg.max_epochs):
        model.train()
        for idx in [i for _ in range(passes) for i in bucketed_order(train.states, cfg.batch_size, g)]:
            batch = {k: v.float() if v.is_floating_point() else v for k, v in train.states.batch(idx).items()}
            with autocast("cpu", cfg.bf16):
                logits = model(batch)
            loss = F.cross_entropy(logits.float(), train.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        acc = float((predict_logits(model, val.states, cfg).argmax(1) == val.labels).float().mean())
        if acc > best:
            best, best_state, stale = acc, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
            if stale > cfg.patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    return predict_logits(model, test.states, cfg).softmax(1)


def harness_section(ws: Workspace, repeats: int, work: Path) -> None:
    print("\n2. Harness vs bare loop (target_only, seconds per run, median of", repeats, ")")
    store = RunStore(work / "results")
    total_h = total_b = 0.0
    for target, budget in (("rotten_tomatoes", 1000), ("conventions", 100), ("mnist", 1000), ("digits", 100)):
        spec = job(target, "target_only", NO_SOURCE, budget)

        def harness(spec: RunJob = spec) -> None:
            outcome = execute_run(ws, spec)
            store.write_run(spec.run, outcome.predictions, outcome.manifest)

        bare_run = partial(bare_loop, ws, target, budget)
        bare_run()  # warm
        pairs = [(median_seconds(harness, 1), median_seconds(bare_run, 1)) for _ in range(repeats)]
        h = statistics.median(p[0] for p in pairs)
        bare = statistics.median(p[1] for p in pairs)
        total_h, total_b = total_h + h, total_b + bare
        print(f"  {target:16s} budget {budget:5d}: harness {h:6.2f} s  bare {bare:6.2f} s  "
              f"overhead {100 * (h / bare - 1):+5.1f}%")
    print(f"  all four: harness {total_h:.2f} s, bare {total_b:.2f} s, overhead {100 * (total_h / total_b - 1):+.1f}%")


def run_in_new_workspace(run: RunJob, cache_dir: Callable[[], Path]) -> None:
    execute_run(Workspace(get_suite(SUITE), cache_dir=cache_dir()), run)


def cache_section(repeats: int, work: Path) -> None:
    print("\n3. Frozen-feature cache (seconds per run incl. its stem states)")
    for spec in (("rotten_tomatoes", "target_only", NO_SOURCE, 1000), ("mnist", "target_only", NO_SOURCE, 1000)):
        run = job(*spec)
        warm = Workspace(get_suite(SUITE), cache_dir=work / "cache_warm")
        execute_run(warm, run)  # fills the disk cache and memory
        memory = median_seconds(partial(execute_run, warm, run), repeats)
        disk = median_seconds(partial(run_in_new_workspace, run, lambda: work / "cache_warm"), repeats)
        cold_dirs = iter(work / f"cache_cold_{spec[0]}_{i}" for i in range(repeats))
        cold = median_seconds(partial(run_in_new_workspace, run, partial(next, cold_dirs)), repeats)
        print(f"  {spec[0]:16s} in memory {memory:6.2f} s   from disk {disk:6.2f} s   "
              f"computed (no cache) {cold:6.2f} s   no cache / in memory {cold / memory:5.2f}x")


def vmap_section(ws: Workspace, repeats: int) -> None:
    print("\n4. Five seeds of the top text block together (forward + backward of one batch, bf16)")
    rt = ws.resolve("rotten_tomatoes")
    trunk: Any = ws.trunk_factory(rt, "pretrained", 0)()
    layer: Any = trunk.layers[-1]
    hidden = int(rt.backbone.config.hidden_size)  # type: ignore[attr-defined]
    seeds = 5
    copies = [copy.deepcopy(layer) for _ in range(seeds)]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(seeds, 32, 48, hidden, generator=g)
    mask = None  # no padding: the same work for both

    def one_by_one() -> None:
        for c, xi in zip(copies, x, strict=True):
            with autocast("cpu"):
                out = c(xi, attention_mask=mask)
            (out[0] if isinstance(out, tuple) else out).float().pow(2).mean().backward()

    params, buffers = stack_module_state(copies)
    base: Any = copies[0]

    def call(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        out = functional_call(base, (p, b), (xi,), {"attention_mask": mask})
        return out[0] if isinstance(out, tuple) else out

    def together() -> None:
        with autocast("cpu"):
            out = torch.vmap(call)(params, buffers, x)
        out.float().pow(2).mean(dim=(1, 2, 3)).sum().backward()

    one_by_one()
    together()
    a = median_seconds(one_by_one, repeats * 3)
    b = median_seconds(together, repeats * 3)
    print(f"  one by one {1000 * a:7.1f} ms   vmap {1000 * b:7.1f} ms   one by one / vmap {a / b:5.2f}x")


def reuse_section(results: Path) -> None:
    print(f"\n5. Fits served twice in {results}")
    reused = spent = 0.0
    n = 0
    for path in results.glob("runs/*/**/run.json"):
        record = json.loads(path.read_text())
        if "reused_fit" in record:
            n += 1
            reused += float(record["reused_fit"].get("fit_seconds", 0.0))
        spent += float(record.get("timings", {}).get("wall_seconds", 0.0))
    print(f"  {n} runs served a shared fit: {reused:.0f} s of training not repeated "
          f"(the runs themselves took {spent:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_speed_"))
    try:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        ws = Workspace(get_suite(SUITE), cache_dir=work / "cache")
        for spec in RUNS:
            execute_run(ws, job(*spec))  # stem states and source models, not timed
        lever_section(ws, args.repeats)
        harness_section(ws, args.repeats, work)
        vmap_section(ws, args.repeats)
        cache_section(args.repeats, work)
        reuse_section(args.results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
