"""Text-pair protocols on real NLI: which pair encoding lets ``target_only`` learn SICK.

Usage: python experiments/2026-11_text_pair_encoding.py [--seeds 0 1 2] [--configs NAME ...]
       [--no-long] [--list]

Data: SICK (``../shared/data/sick/SICK.txt``, development only, never needed by the
product; the script skips with a message when it is absent), carved exactly as the YAML
task of its README (label-stratified, 10% validation, 20% test, split seed 0) by the
project's :class:`~benchmark.data.task.Task`; per seed 1,000 training and 300 validation
examples are drawn (``Task.load``), and the test split is the whole test split (~2,000
pairs, the same for every seed).

Every configuration trains the real MiniLM-L6 weights with the project's ``fit`` loop and
``new_head`` (AdamW, early stopping on validation accuracy, bf16 autocast; the default
suite's text settings: 3 epochs, patience 0, batch 32, lr 2e-4, head lr 2e-3, unless the
row says otherwise) on stem states computed once per (encoding, token budget, frozen depth)
and kept in memory, as the project does. All randomness comes from one
``torch.Generator`` per seed.

Encodings:

- ``cross``: one sequence ``[CLS] premise [SEP] hypothesis [SEP]`` truncated to the budget
  with ``longest_first`` (the project's encoding today), mean-pooled to ``(B, 384)``.
- ``siamese``: each sentence encoded on its own (its own positions, no attention across
  sentences) at the budget per sentence, through the frozen stem and the *same* trainable
  top blocks; mean-pooled to ``u`` and ``v``; features ``(u, v, |u-v|, u*v)`` ->
  ``(B, 1536)`` (Reimers & Gurevych 2019, Sentence-BERT; Conneau et al. 2017, InferSent).
  This is the product's ``pair_encoding: siamese`` (``HFTextBackbone`` and ``TextTrunk``):
  the two sentences' states are stored back to back as one example (``States.first``
  marks the boundary), so the batch size, the order and the training loop are the
  project's; the trunk attends within each sentence only, which makes it exactly the
  separate encoding of each sentence.
- ``head`` rows are the frozen backbone with a linear head trained like the
  ``linear_probe`` method (pooled features computed once, head lr 3e-3, 60 epochs,
  patience 8, float32).

Then two long-pair checks built from real text without generating any, from the 2016
presidential-debate statements of the ``debates`` task. Statements are split into disjoint
train/validation/test pools (60/15/25%, stratified by party, seed 0) before pairing, so no
test statement is seen in training; train/validation pairs are drawn per seed, the 1,000
test pairs once (they reuse the ~70-120 test statements, so their seed sd understates the
uncertainty). Both are balanced (chance 50%):

- A: two statements of at least 24 tokens, "same speaker's party or not". Measured: no
  protocol learns it from 1,000 pairs (~53%); kept as a floor, not as a validation set.
- B (RTE-shaped: long premise, short hypothesis): a statement of at least 48 tokens and 3
  sentences with one sentence taken out (premise, median ~160 tokens), and a sentence of
  at least 6 words (hypothesis, median ~20 tokens) that is either the one taken out or a
  sentence of another statement by a speaker of the same party.

Runtime on 2 CPU cores (measured, 3 seeds): 1,128 s (~19 minutes) in all: SICK ~11
minutes (the three c' rows ~9 of them), the product row (``target_only`` through
``run_suite`` on a YAML task over SICK.txt and a suite file with the default suite's text
protocol, whole test split) ~20 s, set A ~2.5 minutes, set B ~5.5 (``--no-long``: SICK
only; ``--configs c`` the siamese rows only). "best ep" is the 1-based epoch early
stopping kept. Another process on the cores slows every row several-fold (measured 16 s
-> 260 s for a row while a test suite ran); the last line prints the load.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmark.data.task import SPLITS, Budget, Task, get_task  # noqa: E402
from benchmark.models.backbones import (  # noqa: E402
    HFTextBackbone,
    InputSettings,
    PairEncoding,
    States,
    get_backbone,
)
from benchmark.models.backbones.text import TextTrunk  # noqa: E402
from benchmark.models.training import (  # noqa: E402
    Classifier,
    LabeledStates,
    TrainConfig,
    accuracy_of,
    fit,
    freeze,
    new_head,
    pooled_features,
)

SICK = Path(__file__).resolve().parents[2] / "shared" / "data" / "sick" / "SICK.txt"
SICK_LABELS = ("ENTAILMENT", "NEUTRAL", "CONTRADICTION")
#: The default suite's text settings (benchmark/runs/suite_files/default.yaml), copied so this
#: script measures a fixed protocol.
TEXT_TRAIN = TrainConfig(max_epochs=3, patience=0, batch_size=32, lr=2e-4, head_lr=2e-3)
DEVICE = "cpu"


# --- states and trunks ---------------------------------------------------------------------


def take(states: States, positions: list[int]) -> States:
    """The examples ``positions`` of ``states``, in that order (pair boundaries kept)."""
    pos = torch.as_tensor(positions, dtype=torch.long)
    assert states.lengths is not None
    offs = states._offsets
    rows = torch.cat([torch.arange(int(offs[i]), int(offs[i + 1])) for i in pos.tolist()])
    first = states.first[pos] if states.first is not None else None
    return States(states.data[rows], states.lengths[pos], first)


class Features(nn.Module):
    """Identity trunk over precomputed pooled features (as the ``linear_probe`` method)."""

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["x"].float()


# --- configurations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    encoding: PairEncoding
    max_length: int  # per sequence (cross) or per sentence (siamese)
    trainable: str  # "head" | "top-k"
    train: TrainConfig = TEXT_TRAIN

    def n_frozen(self, num_blocks: int) -> int:
        return num_blocks if self.trainable == "head" else num_blocks - int(self.trainable[4:])

    @property
    def feature_dim_factor(self) -> int:
        return 4 if self.encoding == "siamese" else 1


LONGER = dataclasses.replace(TEXT_TRAIN, max_epochs=6, patience=1)
CONFIGS: tuple[Config, ...] = (
    Config("a  cross-48  top-1 (today)", "cross", 48, "top-1"),
    Config("b  cross-128 top-1", "cross", 128, "top-1"),
    Config("b  cross-128 top-2", "cross", 128, "top-2"),
    Config("c  siamese-128 head (probe)", "siamese", 128, "head"),
    Config("c  siamese-128 top-1", "siamese", 128, "top-1"),
    Config("c  siamese-128 top-2", "siamese", 128, "top-2"),
    Config("c' siamese-128 top-1, 6 ep, pat 1", "siamese", 128, "top-1", LONGER),
    Config("c' siamese-128 top-1, lr 1e-4", "siamese", 128, "top-1", dataclasses.replace(TEXT_TRAIN, lr=1e-4)),
    Config("c' siamese-128 top-1, lr 5e-4", "siamese", 128, "top-1", dataclasses.replace(TEXT_TRAIN, lr=5e-4)),
)


# --- data -----------------------------------------------------------------------------------


class SickSource:
    """SICK.txt read with pandas (tab-separated, no quote processing, like the YAML loader)."""

    description = f"local file {SICK}"

    def unavailable_reason(self) -> str | None:
        return None if SICK.exists() else f"{SICK} is absent"

    def load(self) -> datasets.DatasetDict:
        df = pd.read_csv(SICK, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
        ds = datasets.Dataset.from_dict({
            "id": df["pair_ID"].tolist(), "premise": df["sentence_A"].tolist(),
            "hypothesis": df["sentence_B"].tolist(), "label": df["entailment_judgment"].tolist(),
        })
        return datasets.DatasetDict({"train": ds})


def sick_splits(seeds: list[int]) -> dict[int, datasets.DatasetDict]:
    task = Task(name="sick", kind="text-pair", label_names=SICK_LABELS, sources=(SickSource(),),
                validation_fraction=0.1, test_fraction=0.2, split_seed=0)
    return {s: task.load(seed=s, budget=Budget(1000, 300, None)) for s in seeds}


def _debate_statements(min_tokens: int, backbone: HFTextBackbone) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts and party ids of the ``debates`` task, and the statements of >= ``min_tokens`` tokens."""
    full = get_task("debates").load_full()
    stmts = datasets.concatenate_datasets([full[s] for s in SPLITS])
    texts = [str(t) for t in stmts["text"]]
    party = np.asarray(stmts["label"])
    n_tok = np.array([len(x) for x in backbone.tokenizer(texts, truncation=False, verbose=False)["input_ids"]])
    return texts, party, np.flatnonzero(n_tok >= min_tokens)


def _pools(keep: np.ndarray, party: np.ndarray) -> dict[str, np.ndarray]:
    """Disjoint train/validation/test statement pools (60/15/25%, stratified by party, seed 0)."""
    rng = np.random.default_rng([0, 77])
    pools: dict[str, list[int]] = {s: [] for s in SPLITS}
    for label in np.unique(party[keep]):
        members = rng.permutation(keep[party[keep] == label])
        n_val, n_test = round(0.15 * len(members)), round(0.25 * len(members))
        pools["test"] += members[:n_test].tolist()
        pools["validation"] += members[n_test : n_test + n_val].tolist()
        pools["train"] += members[n_test + n_val :].tolist()
    return {s: np.asarray(sorted(p)) for s, p in pools.items()}


PairMaker = Callable[[np.ndarray, int, np.random.Generator], datasets.Dataset]


def _per_seed(seeds: list[int], pools: dict[str, np.ndarray], sizes: tuple[int, int, int],
              make: PairMaker) -> dict[int, datasets.DatasetDict]:
    """Train/validation pairs drawn per seed from their pools; one fixed test set (seed 0)."""
    test = make(pools["test"], sizes[2], np.random.default_rng([0, 2]))
    return {s: datasets.DatasetDict({
        "train": make(pools["train"], sizes[0], np.random.default_rng([s, 0])),
        "validation": make(pools["validation"], sizes[1], np.random.default_rng([s, 1])),
        "test": test,
    }) for s in seeds}


def party_pair_splits(seeds: list[int], backbone: HFTextBackbone, min_tokens: int = 24,
                      sizes: tuple[int, int, int] = (1000, 300, 1000)) -> dict[int, datasets.DatasetDict]:
    """Two long debate statements, labelled same (0) / different (1) speaker's party (balanced)."""
    texts, party, keep = _debate_statements(min_tokens, backbone)
    pools = _pools(keep, party)

    def make(pool: np.ndarray, n: int, gen: np.random.Generator) -> datasets.Dataset:
        out: dict[str, list[object]] = {"id": [], "premise": [], "hypothesis": [], "label": []}
        seen: set[tuple[int, int]] = set()
        while len(out["id"]) < n:
            want_same = len(out["id"]) % 2 == 0
            i, j = (int(x) for x in gen.choice(pool, size=2, replace=False))
            if (i, j) in seen or (party[i] == party[j]) != want_same:
                continue
            seen.add((i, j))
            out["id"].append(f"{i}-{j}")
            out["premise"].append(texts[i])
            out["hypothesis"].append(texts[j])
            out["label"].append(0 if want_same else 1)
        return datasets.Dataset.from_dict(out)

    print(f"party pairs: {len(keep)} statements of >= {min_tokens} tokens; statement pools "
          f"{ {s: len(p) for s, p in pools.items()} }")
    return _per_seed(seeds, pools, sizes, make)


def sentence_pair_splits(seeds: list[int], backbone: HFTextBackbone, min_tokens: int = 48,
                         sizes: tuple[int, int, int] = (1000, 300, 1000)) -> dict[int, datasets.DatasetDict]:
    """RTE-shaped pairs: a long statement with one sentence taken out (premise) and a sentence
    (hypothesis) that is either the one taken out (0, "belongs") or a sentence of another
    statement by a speaker of the same party (1, "foreign"); balanced. Statements of at
    least ``min_tokens`` tokens and 3 sentences; hypotheses of at least 6 words."""
    texts, party, keep = _debate_statements(min_tokens, backbone)
    sentences = {int(i): [s for s in re.split(r"(?<=[.!?])\s+", texts[i].strip()) if s] for i in keep}
    keep = np.asarray([i for i in keep if len(sentences[int(i)]) >= 3
                       and any(len(s.split()) >= 6 for s in sentences[int(i)])])
    pools = _pools(keep, party)

    def make(pool: np.ndarray, n: int, gen: np.random.Generator) -> datasets.Dataset:
        out: dict[str, list[object]] = {"id": [], "premise": [], "hypothesis": [], "label": []}
        seen: set[str] = set()
        while len(out["id"]) < n:
            belongs = len(out["id"]) % 2 == 0
            i = int(gen.choice(pool))
            sents = sentences[i]
            k = int(gen.integers(len(sents)))
            if len(sents[k].split()) < 6:
                continue
            if belongs:
                j, m = i, k
            else:
                others = pool[(pool != i) & (party[pool] == party[i])]
                j = int(gen.choice(others))
                m = int(gen.integers(len(sentences[j])))
                if len(sentences[j][m].split()) < 6:
                    continue
            key = f"{i}.{k}-{j}.{m}"
            if key in seen:
                continue
            seen.add(key)
            out["id"].append(key)
            out["premise"].append(" ".join(sents[:k] + sents[k + 1 :]))
            out["hypothesis"].append(sentences[j][m])
            out["label"].append(0 if belongs else 1)
        return datasets.Dataset.from_dict(out)

    print(f"sentence pairs: {len(keep)} statements of >= {min_tokens} tokens and >= 3 sentences; "
          f"statement pools { {s: len(p) for s, p in pools.items()} }")
    return _per_seed(seeds, pools, sizes, make)


# --- the bench ------------------------------------------------------------------------------


class Bench:
    """One data set's per-seed splits, with stem states computed once per (encoding, budget,
    frozen depth) over the union of every seed's examples and sliced per seed."""

    def __init__(self, name: str, splits: dict[int, datasets.DatasetDict], num_labels: int):
        self.name, self.splits, self.num_labels = name, splits, num_labels
        rows: dict[str, tuple[str, str]] = {}
        for dd in splits.values():
            for split in SPLITS:
                ds = dd[split]
                for i, p, h in zip(ds["id"], ds["premise"], ds["hypothesis"], strict=True):
                    rows.setdefault(str(i), (p, h))
        self.ids = list(rows)
        self.position = {i: k for k, i in enumerate(self.ids)}
        self.premise = [rows[i][0] for i in self.ids]
        self.hypothesis = [rows[i][1] for i in self.ids]
        self._stems: dict[tuple[str, int, int], States] = {}

    def stem(self, cfg: Config, pretrained: Any, path: str) -> States:
        n_frozen = cfg.n_frozen(len(pretrained.encoder.layer))
        key = (cfg.encoding, cfg.max_length, n_frozen)
        if key not in self._stems:
            view = HFTextBackbone("minilm-l6", path).for_task(
                "text-pair", InputSettings(pair_tokens=cfg.max_length, pair_encoding=cfg.encoding))
            pairs = datasets.Dataset.from_dict({"premise": self.premise, "hypothesis": self.hypothesis})
            self._stems[key] = view.stem_forward(pretrained, n_frozen, pairs, 64, DEVICE, cfg.train.bf16)
        return self._stems[key]

    def labeled(self, stem: States, seed: int, split: str) -> LabeledStates:
        ds = self.splits[seed][split]
        ids = [str(i) for i in ds["id"]]
        return LabeledStates(take(stem, [self.position[i] for i in ids]),
                             torch.tensor(ds["label"], dtype=torch.long), ids)


def run_config(bench: Bench, cfg: Config, pretrained: Any, path: str, seeds: list[int]) -> dict[str, Any]:
    t0 = time.perf_counter()
    stem = bench.stem(cfg, pretrained, path)
    t_stem = time.perf_counter() - t0
    num_blocks = len(pretrained.encoder.layer)
    n_frozen = cfg.n_frozen(num_blocks)
    dim = cfg.feature_dim_factor * int(pretrained.config.hidden_size)
    accs, epochs = [], []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        train, val, test = (bench.labeled(stem, seed, s) for s in SPLITS)
        # A fresh copy of the pretrained top blocks, trainable (the shared model is frozen).
        layers = copy.deepcopy(pretrained.encoder.layer[n_frozen:]).requires_grad_(True)
        # The product's trunk: siamese features when the states carry pair boundaries.
        trunk: nn.Module = TextTrunk(layers, pretrained.config)
        if cfg.trainable == "head":
            trunk = freeze(trunk)
            feats = {s: LabeledStates(States.dense(pooled_features(trunk, d.states, cfg.train, DEVICE)),
                                      d.labels, d.ids)
                     for s, d in zip(SPLITS, (train, val, test), strict=True)}
            probe = Classifier(Features(), new_head(dim, bench.num_labels, gen))
            probe_cfg = dataclasses.replace(cfg.train, head_lr=3e-3, patience=8, bf16=False)
            result = fit(probe, feats["train"], feats["validation"], probe_cfg, gen, device=DEVICE, max_epochs=60,
                         desc=cfg.name)
            acc = accuracy_of(probe, feats["test"], probe_cfg, DEVICE)
        else:
            model = Classifier(trunk, new_head(dim, bench.num_labels, gen))
            result = fit(model, train, val, cfg.train, gen, device=DEVICE, desc=cfg.name)
            acc = accuracy_of(model, test, cfg.train, DEVICE)
        accs.append(acc)
        epochs.append(result.best_epoch + 1)
    wall = time.perf_counter() - t0
    return {"config": cfg.name, "accs": accs, "best_epochs": epochs, "stem_s": t_stem, "wall_s": wall,
            "n_test": len(bench.splits[seeds[0]]["test"])}


def product_run(seeds: list[int], workdir: Path) -> dict[str, Any]:
    """``target_only`` on SICK through the product itself: a YAML task over SICK.txt, a suite
    file with the default suite's text protocol (whole test split), ``run_suite``."""
    import yaml

    from benchmark.runs.runner import run_suite
    from benchmark.runs.suite_catalog import get_suite

    p = get_suite("default").protocols["text"]
    (workdir / "sick.yaml").write_text(yaml.safe_dump({
        "name": "sick_bench", "kind": "text-pair", "format": "tsv", "file": str(SICK),
        "split": {"validation": 0.1, "test": 0.2, "seed": 0},
        "columns": {"premise": "sentence_A", "hypothesis": "sentence_B", "label": "entailment_judgment"},
        "label_names": list(SICK_LABELS)}))
    suite_file = workdir / "suite.yaml"
    suite_file.write_text(yaml.safe_dump({
        "name": "bench_sick", "tasks": ["sick.yaml"], "pairs": [], "seeds": seeds, "methods": ["target_only"],
        "protocols": {"text": {
            "backbone": p.backbone, "trainable": p.trainable, "tokens": p.tokens, "pair_encoding": p.pair_encoding,
            "pair_tokens": p.pair_tokens, "precision": p.precision,
            "train": {k: v for k, v in dataclasses.asdict(p.train).items() if k != "bf16"},  # bf16: from precision
            "budgets": {"train": list(p.train_budgets), "validation": p.validation_budget, "test": None,
                        "source_train": p.source_train_budget}}}}))
    t0 = time.perf_counter()
    run_suite(str(suite_file), workdir / "results", cache_dir=workdir / "cache")
    records = sorted((workdir / "results" / "runs" / "bench_sick").rglob("run.json"))
    runs = [json.loads(r.read_text()) for r in records]
    if not runs or any(r["status"] != "ok" for r in runs):
        raise RuntimeError(f"product runs failed: {[r.get('error') for r in runs]}")
    return {"config": f"product: default suite ({p.pair_encoding}-{p.pair_tokens} {p.trainable})",
            "accs": [r["accuracy"] for r in runs],
            "best_epochs": [r["training"][0]["best_epoch"] + 1 for r in runs],
            "stem_s": float("nan"), "wall_s": time.perf_counter() - t0, "n_test": runs[0]["n_test"]}


def print_table(title: str, rows: list[dict[str, Any]], majority: float) -> None:
    print(f"\n{title} (majority class {majority:.1%})")
    print(f"{'configuration':36s} {'test acc mean ± sd':>20s}  {'per seed':24s} {'best ep':>8s} "
          f"{'stem s':>7s} {'wall s':>7s}")
    for r in rows:
        accs = np.asarray(r["accs"], dtype=float)
        sd = accs.std(ddof=1) if len(accs) > 1 else float("nan")
        per = " ".join(f"{a:.3f}" for a in accs)
        eps = ",".join(str(e) for e in r["best_epochs"])  # type: ignore[union-attr]
        print(f"{r['config']:36s} {accs.mean():>11.1%} ± {sd:5.1%}   {per:24s} {eps:>8s} "
              f"{r['stem_s']:7.0f} {r['wall_s']:7.0f}", flush=True)


def pair_lengths(splits: dict[int, datasets.DatasetDict], backbone: HFTextBackbone) -> str:
    """Token lengths of the test pairs: premise, hypothesis, and the share over 48 tokens as one sequence."""
    test = next(iter(splits.values()))["test"]
    tok = backbone.tokenizer
    p = np.array([len(x) for x in tok(list(test["premise"]), truncation=False, verbose=False)["input_ids"]])
    h = np.array([len(x) for x in tok(list(test["hypothesis"]), truncation=False, verbose=False)["input_ids"]])
    pair = p + h - 1
    return (f"test pairs: premise median {int(np.median(p))} tokens (90th pct {int(np.percentile(p, 90))}), "
            f"hypothesis median {int(np.median(h))}; as one sequence {np.mean(pair > 48):.0%} exceed 48 tokens, "
            f"{np.mean(pair > 128):.0%} exceed 128; premise over 128 tokens: {np.mean(p > 128):.0%}")


def majority_rate(splits: dict[int, datasets.DatasetDict]) -> float:
    first = next(iter(splits.values()))
    train = np.asarray(first["train"]["label"])
    test = np.asarray(first["test"]["label"])
    return float(np.mean(test == np.bincount(train).argmax()))


def run_bench(title: str, bench: Bench, configs: list[Config], pretrained: Any, path: str,
              seeds: list[int], majority: float, log: Callable[[str], None]) -> list[dict[str, object]]:
    rows = []
    for cfg in configs:
        rows.append(run_config(bench, cfg, pretrained, path, seeds))
        log(f"  {title}: {cfg.name}: {np.mean(rows[-1]['accs']):.3f} ({rows[-1]['wall_s']:.0f} s)")
    print_table(f"{title}: test accuracy over seeds {seeds}, test n = {rows[0]['n_test']}", rows, majority)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--configs", nargs="+", help="substrings of configuration names to run (default: all)")
    parser.add_argument("--long-configs", nargs="+",
                        help="substrings of the configurations to run on the long debate pairs (default: "
                             "today's and siamese top-1 on set A; today's, cross-128 top-1 and the siamese "
                             "head, top-1 and top-2 on set B)")
    parser.add_argument("--no-long", action="store_true", help="skip the long debate-pair check")
    parser.add_argument("--no-product", action="store_true",
                        help="skip target_only on SICK through the product (run_suite on a YAML task and suite)")
    parser.add_argument("--list", action="store_true", help="list the configurations and exit")
    args = parser.parse_args(argv)
    if args.list:
        for c in CONFIGS:
            print(c.name)
        return 0
    if not SICK.exists():
        print(f"SKIP: {SICK} is absent. SICK is for development only (see its README); the product does "
              "not need it. Put SICK.txt there to run this benchmark.")
        return 0

    def pick(patterns: list[str] | None) -> list[Config]:
        return [c for c in CONFIGS if patterns is None or any(p in c.name for p in patterns)]

    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s]{msg}", file=sys.stderr, flush=True)

    base = get_backbone("minilm-l6")
    assert isinstance(base, HFTextBackbone)
    path = base.path
    pretrained = freeze(base.build("pretrained", None).to(DEVICE))
    log(f" torch threads {torch.get_num_threads()}")

    splits = sick_splits(args.seeds)
    print(pair_lengths(splits, HFTextBackbone("minilm-l6", path)))
    sick = Bench("sick", splits, len(SICK_LABELS))
    run_bench("SICK (1,000 train / 300 validation per seed)", sick, pick(args.configs), pretrained, path,
              args.seeds, majority_rate(splits), log)
    if not args.no_product:
        with tempfile.TemporaryDirectory() as tmp:
            row = product_run(args.seeds, Path(tmp))
        log(f"  product: {np.mean(row['accs']):.3f} ({row['wall_s']:.0f} s)")  # type: ignore[arg-type]
        print_table("SICK through the product (python -m benchmark run on a YAML task and suite; "
                    f"test n = {row['n_test']}; stem time inside wall)", [row], majority_rate(splits))

    if not args.no_long:
        long_sets = (
            ("Long pairs A: two debate statements, same party? (balanced; 1,000 train / 300 validation per seed)",
             party_pair_splits, ["a  cross-48", "c  siamese-128 top-1"]),
            ("Long pairs B: statement minus a sentence + a sentence, taken from it or from another statement of "
             "the same party? (balanced; 1,000 train / 300 validation per seed)", sentence_pair_splits,
             ["a  cross-48", "b  cross-128 top-1", "c  siamese-128 head", "c  siamese-128 top-1",
              "c  siamese-128 top-2"]),
        )
        tokenizer_owner = HFTextBackbone("minilm-l6", path)
        for title, make_splits, default_configs in long_sets:
            try:
                long_splits = make_splits(args.seeds, tokenizer_owner)
            except Exception as exc:  # the debates data is optional here
                print(f"\n{title}: skipped ({type(exc).__name__}: {exc})")
                continue
            print(pair_lengths(long_splits, tokenizer_owner))
            long = Bench(title, long_splits, 2)
            run_bench(title, long, pick(args.long_configs or default_configs), pretrained, path, args.seeds,
                      majority_rate(long_splits), log)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s (torch threads {torch.get_num_threads()}, "
          f"load average at the end {os.getloadavg()[1]:.1f} over 5 minutes: other processes slow every row)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
