"""Transferability scores: before any target training, how well does each source model suit
each target? Scored per (suite, source, target, budget, seed) on the target's training draw
(the one the fusion runs of that seed train on), by every estimator
registered in :mod:`benchmark.analysis.estimators` (those of
:mod:`benchmark.analysis.stats.transferability` and two simple baselines, and any a plug-in adds).

Items are written one JSON file each, atomically, under
``<results>/transferability/<suite>/<target>/<source>/budget=<b>/seed=<s>.json`` and reused while
their key (source model file, target draw, estimator code) is unchanged, so the stage resumes.
Only real sources are scored (controls are not candidates one would choose among), and only
for seeds with a ``finetune`` run on disk: the gain they are compared with.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from benchmark.analysis.estimators import KNN_K, EstimatorInputs, score_all
from benchmark.analysis.estimators import estimators as registered_estimators
from benchmark.data.controls import parse_control
from benchmark.files import atomic_write_json
from benchmark.fingerprint import code_fingerprint, content_hash
from benchmark.models.training import accuracy_of, pooled_features, predict_logits
from benchmark.runs.layout import ResultsLayout
from benchmark.runs.store import scan_runs
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob, Workspace

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Item:
    suite: str
    source: str
    target: str
    budget: int
    seed: int

    def path(self, results: Path) -> Path:
        return ResultsLayout(results).transferability_item(self.suite, self.target, self.source, self.budget,
                                                           self.seed)


def items_to_score(results: Path, suite: str, judge: str) -> list[Item]:
    """(source, target, budget, seed) of every ok run of the suite's judge with a real source (one
    task: an estimator scores one source model on the target, so a fusion group's runs are left out)."""
    found = {Item(suite, r.source, r.target, r.run.budget, r.run.seed) for r in scan_runs(results, suite)
             if r.method == judge and r.status == "ok" and parse_control(r.source) is None
             and len(r.run.sources) == 1}
    return sorted(found, key=lambda i: (i.target, i.source, i.budget, i.seed))


def item_key(ws: Workspace, item: Item) -> str:
    return content_hash({"source_model": ws.fit_key(FitJob(item.source, item.seed)),
                         "target": ws.fingerprint(item.target, item.seed, "target", item.budget),
                         "code": code_fingerprint([__file__]), "knn_k": KNN_K})


def source_accuracy(ws: Workspace, source: str, seed: int) -> float:
    """The source model's accuracy on its own validation draw (a baseline estimator)."""
    source_val = ws.states(source, seed, "source", "validation", "pretrained")
    return accuracy_of(ws.source_model(source, seed), source_val, ws.resolve(source).protocol.train, ws.device)


def score_item(ws: Workspace, item: Item, source_acc: float) -> dict[str, float]:
    """Every registered estimator's score (:mod:`benchmark.analysis.estimators`) of ``item``'s source
    model on its target training draw (NaN when an estimator does not apply, e.g. a source head for
    sentence pairs on single sentences);
    ``source_acc`` is :func:`source_accuracy`, the same for every target of the source model."""
    model = ws.source_model(item.source, item.seed)
    config = ws.resolve(item.target).protocol.train
    train = ws.states(item.target, item.seed, "target", "train", "pretrained", item.budget)
    labels = train.labels.numpy()
    features = pooled_features(model.trunk, train.states, config, ws.device).double().numpy()
    probabilities = None  # the source head reads another input kind's features: no source predictions
    if features.shape[1] == model.head.in_features:
        probabilities = torch.softmax(predict_logits(model, train.states, config, ws.device).double(), 1).numpy()
    return score_all(EstimatorInputs(features, labels, probabilities, source_acc))


def score_suite(suite_name: str, results_dir: str | Path, device: str = "cpu",
                cache_dir: Path | None = None, precision: str | None = None) -> tuple[int, int, int]:
    """Score every item of the suite not scored yet; returns (scored, reused, failed). One
    failing item is recorded (``error``) and never stops the others."""
    results = Path(results_dir)
    suite = get_suite(suite_name).with_precision(precision, device)  # a name or a suite file
    if suite.roles.judge is None:
        log.info("suite %s declares no judge: transferability is not scored (its gains have no method to "
                 "come from); set judge: <fusion method> in its suite file", suite.name)
        return 0, 0, 0
    items = items_to_score(results, suite.name, suite.roles.judge)
    if not items:
        return 0, 0, 0
    ws = Workspace(suite, device, cache_dir)
    counts = [0, 0, 0]
    source_accuracies: dict[tuple[str, int], float] = {}  # one per source model, not per target
    for item in tqdm(items, desc=f"transferability {suite.name}", unit="pair", leave=False):
        path = item.path(results)
        key = item_key(ws, item)
        if path.exists():
            try:
                stored = json.loads(path.read_text())
                # A newly registered estimator has no score yet in an old item: score it again.
                if stored.get("key") == key and set(registered_estimators()) <= set(stored.get("scores") or {}):
                    counts[1] += 1
                    continue
            except (OSError, ValueError):
                pass  # unreadable: score again
        record: dict[str, Any] = {"suite": item.suite, "source": item.source, "target": item.target,
                                  "budget": item.budget, "seed": item.seed, "key": key, "error": None}
        t0 = time.perf_counter()
        try:
            if (item.source, item.seed) not in source_accuracies:
                source_accuracies[(item.source, item.seed)] = source_accuracy(ws, item.source, item.seed)
            record["scores"] = score_item(ws, item, source_accuracies[(item.source, item.seed)])
            counts[0] += 1
        except Exception as exc:  # one bad item must not stop the stage
            record.update(scores={name: None for name in registered_estimators()}, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
            log.error("transferability %s -> %s budget=%d seed=%d failed: %s", item.source, item.target,
                      item.budget, item.seed, record["error"])
            counts[2] += 1
        record["seconds"] = time.perf_counter() - t0
        atomic_write_json(path, record)
    return counts[0], counts[1], counts[2]
