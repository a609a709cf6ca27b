"""Single-sentence text: does a larger token budget or another pooling help ``target_only``?

Usage: python experiments/2026-11_text_single_encoding.py [--seeds 0 1 2] [--tasks NAME ...]
       [--configs NAME ...] [--list]

Tasks: ``rotten_tomatoes``, ``spam`` and ``debates`` (real data shipped in packages, read
offline), each loaded by the project's :class:`~benchmark.data.task.Task` with
``Budget(1000, 300, 1000)`` per seed (train and validation drawn with the seed, the test
subsample the same for every seed; ``debates`` is smaller than the budget and is used whole).

Every configuration is the ``target_only`` protocol on the real MiniLM-L6 weights: the
bottom 5 blocks frozen (stem states computed once per (task, token budget) over the union
of every seed's examples, kept in memory and sliced per seed, as ``bench_text_pair``
does), a fresh trainable copy of the top block plus a linear head trained with the
project's ``fit`` loop and ``new_head`` (AdamW, early stopping on validation accuracy, bf16
autocast; the default suite's text settings: 3 epochs, patience 0, batch 32, lr 2e-4, head
lr 2e-3). All randomness comes from one ``torch.Generator`` per seed.

Configurations: ``mean-L`` is the project's trunk (:class:`TextTrunk`, attention-masked
mean pooling) on inputs truncated to ``L`` tokens (``mean-48`` is today's setting);
``cls-L`` runs the same top block and returns the ``[CLS]`` position's state.

Printed: per task, the token lengths of the test texts (with ``[CLS]``/``[SEP]``, no
truncation); then a table: test accuracy mean ± sd over seeds, the per-seed accuracies,
the paired-by-seed gain over ``mean-48`` (mean ± sd of the per-seed differences), stem
seconds (the frozen blocks over the union of examples at that budget; computed once and
shared by both poolings at the same budget, so it is shown on both rows), training seconds
(all seeds: fit + test evaluation) and the cost of the row relative to ``mean-48`` (stem +
train). The header gives the binomial standard error of one accuracy on the test set: the
test set is fixed across seeds, so the seed sd does not include test-sampling noise.

Runtime (measured, all tasks x 5 configurations x 3 seeds, stems included): 1,593 s (~27
minutes) on 2 CPU cores shared with another engineer's test suite (load average 3-4);
``--tasks spam`` alone took 721 s on a second run. Spam dominates (median 309 tokens,
the 128/256 stems over ~3,900 e-mails); rotten_tomatoes takes ~3 minutes and debates
~1.5. The accuracies are deterministic (a rerun reproduced every spam accuracy), but the
seconds are not: other processes on the cores swing a row several-fold (spam mean-256:
433 s in one run, 129 s in the other), so compare the time columns within a quiet run only
(the last line prints the load).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from importlib import import_module  # noqa: E402

import datasets  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

_pair = import_module("2026-11_text_pair_encoding")  # the sibling study (same folder: the script's path)
DEVICE, TEXT_TRAIN, take = _pair.DEVICE, _pair.TEXT_TRAIN, _pair.take
from torch import nn  # noqa: E402

from benchmark.data.task import SPLITS, Budget, get_task  # noqa: E402
from benchmark.models.backbones import HFTextBackbone, States, get_backbone  # noqa: E402
from benchmark.models.backbones.text import TextTrunk  # noqa: E402
from benchmark.models.training import (  # noqa: E402
    Classifier,
    LabeledStates,
    accuracy_of,
    fit,
    freeze,
    new_head,
)

TASKS = ("rotten_tomatoes", "spam", "debates")
BUDGET = Budget(1000, 300, 1000)
BASELINE = "mean-48"


@dataclass(frozen=True)
class Config:
    name: str
    pooling: str  # "mean" | "cls"
    max_length: int


CONFIGS: tuple[Config, ...] = (
    Config("mean-48", "mean", 48),
    Config("mean-128", "mean", 128),
    Config("mean-256", "mean", 256),
    Config("cls-48", "cls", 48),
    Config("cls-128", "cls", 128),
)


class ClsTrunk(TextTrunk):
    """:class:`TextTrunk`'s layers with the ``[CLS]`` state as the output: ``{"x", "mask"} -> (B, H)``."""

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self._encode(batch["x"], batch["mask"], None) if len(self.layers) else batch["x"]
        return x[:, 0]


class Bench:
    """One task's per-seed splits; stem states computed once per token budget over the
    union of every seed's examples and sliced per seed."""

    def __init__(self, name: str, seeds: list[int]):
        task = get_task(name)
        self.name, self.num_labels = name, len(task.label_names)
        self.splits = {s: task.load(seed=s, budget=BUDGET) for s in seeds}
        rows: dict[str, str] = {}
        for dd in self.splits.values():
            for split in SPLITS:
                for i, text in zip(dd[split]["id"], dd[split]["text"], strict=True):
                    assert rows.setdefault(str(i), text) == text, f"{name}: id {i} with two texts"
        self.ids = list(rows)
        self.position = {i: k for k, i in enumerate(self.ids)}
        self.texts = [rows[i] for i in self.ids]
        self._stems: dict[int, tuple[States, float]] = {}

    def stem(self, max_length: int, pretrained: Any, path: str) -> tuple[States, float]:
        """Stem states at ``max_length`` tokens and the seconds they took (cached)."""
        if max_length not in self._stems:
            t0 = time.perf_counter()
            bb = HFTextBackbone("minilm-l6", path, max_length=max_length)
            n_frozen = len(pretrained.encoder.layer) - 1
            states = bb.stem_forward(pretrained, n_frozen, datasets.Dataset.from_dict({"text": self.texts}), 64,
                                     DEVICE, TEXT_TRAIN.bf16)
            self._stems[max_length] = (states, time.perf_counter() - t0)
        return self._stems[max_length]

    def labeled(self, stem: States, seed: int, split: str) -> LabeledStates:
        ds = self.splits[seed][split]
        ids = [str(i) for i in ds["id"]]
        return LabeledStates(take(stem, [self.position[i] for i in ids]),
                             torch.tensor(ds["label"], dtype=torch.long), ids)

    def majority(self) -> float:
        first = next(iter(self.splits.values()))
        train, test = np.asarray(first["train"]["label"]), np.asarray(first["test"]["label"])
        return float(np.mean(test == np.bincount(train).argmax()))


def run_config(bench: Bench, cfg: Config, pretrained: Any, path: str, seeds: list[int]) -> dict[str, Any]:
    stem, t_stem = bench.stem(cfg.max_length, pretrained, path)
    n_frozen = len(pretrained.encoder.layer) - 1
    dim = int(pretrained.config.hidden_size)
    accs, epochs = [], []
    t0 = time.perf_counter()
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        train, val, test = (bench.labeled(stem, seed, s) for s in SPLITS)
        # A fresh copy of the pretrained top block, trainable (the shared model is frozen).
        layers = copy.deepcopy(pretrained.encoder.layer[n_frozen:]).requires_grad_(True)
        trunk: nn.Module = (TextTrunk(layers, pretrained.config) if cfg.pooling == "mean"
                            else ClsTrunk(layers, pretrained.config))
        model = Classifier(trunk, new_head(dim, bench.num_labels, gen))
        result = fit(model, train, val, TEXT_TRAIN, gen, device=DEVICE, desc=f"{bench.name} {cfg.name}")
        accs.append(accuracy_of(model, test, TEXT_TRAIN, DEVICE))
        epochs.append(result.best_epoch + 1)
    return {"config": cfg.name, "accs": accs, "best_epochs": epochs, "stem_s": t_stem,
            "train_s": time.perf_counter() - t0}


def length_summary(bench: Bench, path: str) -> str:
    """Token lengths of the test texts (with [CLS]/[SEP], untruncated)."""
    test = next(iter(bench.splits.values()))["test"]
    tok = HFTextBackbone("minilm-l6", path).tokenizer
    n = np.array([len(x) for x in tok([str(t) for t in test["text"]], truncation=False, verbose=False)["input_ids"]])
    return (f"{bench.name}: {len(n)} test texts, tokens median {int(np.median(n))}, 90th pct "
            f"{int(np.percentile(n, 90))}, max {int(n.max())}; over 48: {np.mean(n > 48):.0%}, "
            f"over 128: {np.mean(n > 128):.0%}, over 256: {np.mean(n > 256):.0%}")


def print_table(bench: Bench, rows: list[dict[str, Any]], seeds: list[int]) -> None:
    n_test = len(next(iter(bench.splits.values()))["test"])
    n_train = len(next(iter(bench.splits.values()))["train"])
    base = next((r for r in rows if r["config"] == BASELINE), None)
    p = float(np.mean(base["accs"])) if base else 0.8
    se = np.sqrt(p * (1 - p) / n_test)
    print(f"\n{bench.name}: test accuracy over seeds {seeds} (train {n_train} / test {n_test} per seed; majority "
          f"class {bench.majority():.1%}; binomial SE of one accuracy on this test set ~{se:.1%})")
    print(f"{'config':9s} {'acc mean ± sd':>15s}  {'per seed':20s} {'best ep':>7s} {'gain vs mean-48 (paired)':>25s} "
          f"{'stem s':>7s} {'train s':>8s} {'cost':>6s}")
    base_cost = base["stem_s"] + base["train_s"] if base else float("nan")
    for r in rows:
        accs = np.asarray(r["accs"], dtype=float)
        sd = accs.std(ddof=1) if len(accs) > 1 else float("nan")
        per = " ".join(f"{a:.3f}" for a in accs)
        eps = ",".join(str(e) for e in r["best_epochs"])
        if base is None or r is base:
            gain = "-"
        else:
            d = (accs - np.asarray(base["accs"], dtype=float)) * 100
            dsd = d.std(ddof=1) if len(d) > 1 else float("nan")
            gain = f"{d.mean():+.1f} ± {dsd:.1f} pt"
        cost = (r["stem_s"] + r["train_s"]) / base_cost
        print(f"{r['config']:9s} {accs.mean():>7.1%} ± {sd:5.1%}  {per:20s} {eps:>7s} {gain:>25s} "
              f"{r['stem_s']:7.0f} {r['train_s']:8.0f} {cost:5.1f}x", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--configs", nargs="+", default=[c.name for c in CONFIGS], choices=[c.name for c in CONFIGS],
                        help="configurations to run (default: all; mean-48 is the baseline of the gain column)")
    parser.add_argument("--list", action="store_true", help="list the configurations and exit")
    args = parser.parse_args(argv)
    if args.list:
        for c in CONFIGS:
            print(c.name)
        return 0
    configs = [c for c in CONFIGS if c.name in args.configs]
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)

    base = get_backbone("minilm-l6")
    assert isinstance(base, HFTextBackbone)
    path = base.path
    pretrained = freeze(base.build("pretrained", None).to(DEVICE))
    log(f"torch threads {torch.get_num_threads()}")

    benches = {name: Bench(name, args.seeds) for name in args.tasks}
    print("Token lengths of the test texts (MiniLM-L6 tokenizer, with [CLS]/[SEP]):")
    for bench in benches.values():
        print("  " + length_summary(bench, path), flush=True)
    for bench in benches.values():
        rows = []
        for cfg in configs:
            rows.append(run_config(bench, cfg, pretrained, path, args.seeds))
            log(f"{bench.name} {cfg.name}: {np.mean(rows[-1]['accs']):.3f} (stem {rows[-1]['stem_s']:.0f} s, "
                f"train {rows[-1]['train_s']:.0f} s)")
        print_table(bench, rows, args.seeds)
        bench._stems.clear()  # free the task's states (spam at 256 tokens is ~1 GB)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s (torch threads {torch.get_num_threads()}, "
          f"load average at the end {os.getloadavg()[1]:.1f} over 5 minutes: other processes slow every row)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
