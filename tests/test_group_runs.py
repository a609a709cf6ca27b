"""Fusion groups through the real runner: a tiny image suite with a pair and a many -> one group
(real digits / mnist / fashion_mnist draws, the real EfficientNet-Lite0 backbone)."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.models import merging
from benchmark.models.training import predict_logits
from benchmark.runs.executor import WorkspaceSpec
from benchmark.runs.plan import RunFilters
from benchmark.runs.runner import run_suite
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob

SUITE = """
    name: groups_tiny
    tasks: [digits, mnist, fashion_mnist]
    pairs: ["mnist -> digits"]
    groups: ["mnist, fashion_mnist -> digits"]
    seeds: [0]
    methods: [target_only, task_arithmetic, ties, dare_ties, average_merge]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: 96, validation: 48, test: 96, source_train: 96}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """
GROUP = "fashion_mnist+mnist"
MERGERS = ("task_arithmetic", "ties", "dare_ties", "average_merge")


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> tuple[Path, Path]:
    """(suite file, results folder) of the tiny suite, run once, DARE's drop rate at 0."""
    root = tmp_path_factory.mktemp("groups")
    suite_file = root / "groups_tiny.yaml"
    suite_file.write_text(textwrap.dedent(SUITE).lstrip(), encoding="utf-8")
    summary = run_suite(str(suite_file), root / "results", RunFilters(hyperparameters=["dare_ties.drop_rate=0"]),
                        cache_dir=smoke_cache)
    # target_only, then 4 merging methods on the pair and on the group
    assert (summary.n_planned, summary.n_failed) == (9, 0), summary.line()
    return suite_file, root / "results"


def _run(results: Path, method: str, source: str) -> tuple[dict[str, object], pd.DataFrame]:
    folder = results / "runs/groups_tiny/digits" / method / source / "budget=96/seed=0"
    return json.loads((folder / "run.json").read_text()), pd.read_parquet(folder / "predictions.parquet")


@pytest.mark.parametrize("method", MERGERS)
def test_a_group_runs_into_its_source_set_folder_and_records_its_merge(grouped: tuple[Path, Path],
                                                                       method: str) -> None:
    record, predictions = _run(grouped[1], method, GROUP)
    assert record["status"] == "ok" and record["source"] == GROUP and len(predictions) == record["n_test"]
    assert set(record["plugins"]["tasks"]) == {"digits", "fashion_mnist", "mnist"}  # every source is traced
    merge = record["training"][-1]
    if method == "average_merge":
        assert merge["merged_models"] == 3  # the target's trunk and the two sources'
    else:  # the coefficient chosen on validation data, with every candidate's accuracy
        assert merge["merge_scale"] in merge["merge_scales"] and len(merge["merge_val_accuracy"]) == len(
            merge["merge_scales"])


@pytest.mark.parametrize("source", ["mnist", GROUP])
def test_dare_with_drop_rate_0_is_ties(grouped: tuple[Path, Path], source: str) -> None:
    _, dare = _run(grouped[1], "dare_ties", source)
    _, ties = _run(grouped[1], "ties", source)
    assert dare.equals(ties)


@pytest.mark.parametrize("method", ["task_arithmetic", "ties"])
def test_one_source_gives_the_pairwise_methods_predictions(grouped: tuple[Path, Path], smoke_cache: Path,
                                                           method: str) -> None:
    """The multi-source code path with K = 1 (a pair) gives what the pairwise algorithm (as
    written before groups: one source model, one task vector) gives on the same fits."""
    suite_file, results = grouped
    ws = WorkspaceSpec(get_suite(str(suite_file)), "cpu", smoke_cache).build()
    try:
        model = ws.trainable_copy(FitJob("digits", 0, "target", 96))
        source = ws.fitted(FitJob("mnist", 0))
        rt = ws.resolve("digits")
        validation = ws.states("digits", 0, "target", "validation", "pretrained", 96)
        pretrained = ws.trunk_factory(rt, "pretrained", 0)()
        if method == "task_arithmetic":
            grid = merging.parse_grid("0,0.1,0.2,0.3,0.5,0.7,1.0", "scales")
            base, vector = copy.deepcopy(model.trunk), merging.task_vector(source.trunk, pretrained)
        else:
            grid = merging.parse_grid("0.6,0.8,1.0,1.2,1.4,1.6,1.8", "scales")
            base = pretrained
            vector = merging.ties_merge([merging.task_vector(model.trunk, pretrained),
                                         merging.task_vector(source.trunk, pretrained)], 0.2)
        merging.select_scale(model, base, vector, grid, validation, rt.protocol.train)
        test = ws.states("digits", 0, "target", "test", "pretrained", 96)
        probabilities = torch.softmax(predict_logits(model, test.states, rt.protocol.train), 1).numpy()
    finally:
        ws.close()
    _, stored = _run(results, method, "mnist")
    assert (stored["prediction"].to_numpy() == probabilities.argmax(1)).all()
    assert (np.stack(stored["probabilities"].to_list()) == probabilities).all()  # bit for bit
