"""Merge-all groups through the real runner: a tiny image suite whose three task models (real
digits / mnist / fashion_mnist draws, the real EfficientNet-Lite0 backbone) are merged into one
model evaluated on each task."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.errors import BenchmarkError
from benchmark.models import merging
from benchmark.models.merge_many import simple_average
from benchmark.models.training import Classifier, predict_logits
from benchmark.runs.executor import WorkspaceSpec
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import run_suite
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.suite_yaml import load_suite_file
from benchmark.runs.workspace import FitJob

SUITE = """
    name: merge_tiny
    tasks: [digits, mnist, fashion_mnist]
    pairs: []
    groups: ["merge: mnist, digits, fashion_mnist"]
    seeds: [0]
    methods: [target_only, linear_probe]
    group_methods: [task_arithmetic, ties, dare_ties, average_merge, fisher_merge, regmean]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: 96, validation: 48, test: 96, source_train: 96}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """
GROUP = "digits+fashion_mnist+mnist"
TASKS = ("digits", "fashion_mnist", "mnist")
MERGERS = ("task_arithmetic", "ties", "dare_ties", "average_merge", "fisher_merge", "regmean")


def _write(root: Path, text: str) -> Path:
    path = root / "merge_tiny.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("merge_all")
    suite_file = _write(root, SUITE)
    summary = run_suite(str(suite_file), root / "results", RunFilters(), cache_dir=smoke_cache)
    # target_only and linear_probe per task, then 6 merging methods per task of the group
    assert (summary.n_planned, summary.n_failed) == (24, 0), summary.line()
    return suite_file, root / "results"


def _run(results: Path, task: str, method: str) -> tuple[dict, pd.DataFrame]:  # type: ignore[type-arg]
    folder = results / "runs/merge_tiny" / task / method / GROUP / "budget=96/seed=0"
    return json.loads((folder / "run.json").read_text()), pd.read_parquet(folder / "predictions.parquet")


@pytest.mark.slow
@pytest.mark.parametrize("method", MERGERS)
def test_every_task_of_the_group_gets_one_merge_chosen_on_all_tasks(merged: tuple[Path, Path], method: str) -> None:
    records = [_run(merged[1], t, method)[0] for t in TASKS]
    assert all(r["status"] == "ok" and r["source"] == GROUP for r in records)
    merges = [r["training"][-1] for r in records]
    # One model: the same coefficient, chosen on the same joint validation accuracies, for every task.
    assert all(m == merges[0] for m in merges[1:])
    if "merge_val_accuracy" in merges[0]:
        assert merges[0]["merge_scale"] in merges[0]["merge_scales"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["task_arithmetic", "average_merge"])
def test_the_merged_model_is_the_closed_form_merge_of_the_experts(merged: tuple[Path, Path], smoke_cache: Path,
                                                                  method: str) -> None:
    """task_arithmetic: θ_pretrained + λ Σ_k τ_k over the three experts (λ as recorded);
    average_merge: the experts' mean. Each task's predictions are that trunk with the task's
    own expert head, bit for bit."""
    suite_file, results = merged
    ws = WorkspaceSpec(get_suite(str(suite_file)), "cpu", smoke_cache).build()
    try:
        experts = [ws.fitted(FitJob(t, 0)) for t in TASKS]
        rt = ws.resolve("digits")
        pretrained = ws.trunk_factory(rt, "pretrained", 0)()
        for index, task in enumerate(TASKS):
            record, stored = _run(results, task, method)
            model = ws.trainable_copy(FitJob(task, 0, "target", 96))
            if method == "task_arithmetic":
                vectors = [merging.task_vector(e.trunk, pretrained) for e in experts]
                summed = {n: sum(v[n] for v in vectors) for n in vectors[0]}
                merging.add_vector(model.trunk, pretrained, summed, record["training"][-1]["merge_scale"])
            else:
                mean = simple_average([dict(e.trunk.named_parameters()) for e in experts])
                with torch.no_grad():
                    for n, p in model.trunk.named_parameters():
                        p.copy_(mean[n])
            # the task's own head: the expert's (the run's reference fit is that same fit)
            assert torch.equal(model.head.weight, experts[index].head.weight)
            test = ws.states(task, 0, "target", "test", "pretrained", 96)
            probabilities = torch.softmax(predict_logits(model, test.states, rt.protocol.train), 1).numpy()
            assert (np.stack(stored["probabilities"].to_list()) == probabilities).all(), task
    finally:
        ws.close()


@pytest.mark.slow
def test_the_expert_is_the_target_only_fit_and_the_pretrained_row_is_linear_probe(merged: tuple[Path, Path]) -> None:
    """The merged model is compared with target_only at the source budget (the expert: the same
    fit the merge took) and linear_probe (the frozen pretrained trunk with a trained head)."""
    results = merged[1]
    for task in TASKS:
        record, _ = _run(results, task, "ties")
        expert = json.loads((results / f"runs/merge_tiny/{task}/target_only/-/budget=96/seed=0/run.json").read_text())
        assert record["reused_fit"]["fit"] == expert["reused_fit"]["fit"]
        assert (results / f"runs/merge_tiny/{task}/linear_probe/-/budget=96/seed=0/run.json").exists()


def test_merge_all_planning(tmp_path: Path) -> None:
    suite = load_suite_file(_write(tmp_path, SUITE))
    runs = plan_runs(suite, RunFilters())
    group_runs = sorted((r.target, r.method) for r in runs if r.source == GROUP)
    assert group_runs == sorted((t, m) for t in TASKS for m in MERGERS)
    assert all(r.merges_all for r in runs if r.source == GROUP)
    # the training methods cannot merge K models into one: none is planned on the group
    wide = load_suite_file(_write(tmp_path, SUITE.replace("group_methods: [task_arithmetic,",
                                                          "group_methods: [distill, task_arithmetic,")))
    assert not [r for r in plan_runs(wide, RunFilters()) if r.method == "distill"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("train: 96,", "train: [48, 96],", None),  # fine: the source budget is among the train budgets
    ("train: 96,", "train: 48,", None),  # fine: the merges (and the experts) still run at the source budget
    ("group_methods: [task_arithmetic, ties, dare_ties, average_merge, fisher_merge, regmean]",
     "group_methods: [distill]", "none of its methods merges K task models into one; add one that does"),
])
def test_a_merge_all_group_that_cannot_run_is_a_one_line_error(tmp_path: Path, old: str, new: str,
                                                              message: str | None) -> None:
    suite = load_suite_file(_write(tmp_path, SUITE.replace(old, new)))
    if message is None:
        # tasks only a merge-all group evaluates run at the source budget alone
        assert {r.budget for r in plan_runs(suite, RunFilters())} == {96}
        return
    with pytest.raises(BenchmarkError) as info:
        plan_runs(suite, RunFilters())
    assert "\n" not in str(info.value) and message in str(info.value)


def test_merge_all_selection_scores_every_task_with_its_own_head() -> None:
    """FitContext.selection_accuracy under merge_all: the mean over tasks of the trunk with each
    expert's head on that task's validation draw (tiny generated states: a linear trunk)."""
    from benchmark.models.backbones.base import States
    from benchmark.models.method import FitContext
    from benchmark.models.training import LabeledStates, TrainConfig

    gen = torch.Generator().manual_seed(0)
    trunk = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))

    class Trunk(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = trunk

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.inner(batch["x"])

    def draw(n: int) -> LabeledStates:
        return LabeledStates(States(torch.randn(n, 4, generator=gen)), torch.randint(0, 2, (n,), generator=gen),
                             [str(i) for i in range(n)])

    shared = Trunk()
    heads = [torch.nn.Linear(3, 2) for _ in range(3)]
    experts = tuple(Classifier(shared, h) for h in heads)
    validations = (draw(20), draw(30), draw(25))
    config = TrainConfig(bf16=False)
    ctx = FitContext(backbone=None, config=config, num_labels=2,  # type: ignore[arg-type]
                     train=draw(5), validation=draw(5), make_trunk=Trunk, source=None, generator=gen,
                     sources=experts, merge_all=True, merge_index=1, source_validations=validations,
                     reference=experts[1])
    by_hand = [float((predict_logits(e, v.states, config).argmax(1) == v.labels).float().mean())
               for e, v in zip(experts, validations, strict=True)]
    assert ctx.selection_accuracy(experts[1]) == pytest.approx(sum(by_hand) / 3)
    assert ctx.merge_pool()[0] == list(experts)  # the K experts alone, the target's included once
