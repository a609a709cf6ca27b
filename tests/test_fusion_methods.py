"""The weight-space, joint-training and gated fusion methods on real smoke-suite data and real
backbones: they learn, they are deterministic, and they do what their papers say."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import torch

from benchmark.data.task import get_task
from benchmark.models.merging import add_vector, parse_grid, task_vector, ties_merge
from benchmark.models.method import FitContext, make_method
from benchmark.models.training import Classifier, predict_logits
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob, Workspace

NEW_METHODS = ("multitask", "task_arithmetic", "ties", "representation_fusion")


@pytest.fixture(scope="module")
def workspace(smoke_cache: Path) -> Workspace:
    return Workspace(get_suite("smoke"), cache_dir=smoke_cache)


def _context(ws: Workspace, target: str, source: str, seed: int = 0) -> FitContext:
    rt = ws.resolve(target)
    budget = rt.protocol.train_budgets[0]
    return FitContext(
        backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
        train=ws.states(target, seed, "target", "train", "pretrained", budget),
        validation=ws.states(target, seed, "target", "validation", "pretrained", budget),
        make_trunk=ws.trunk_factory(rt, "pretrained", seed),
        source=copy.deepcopy(ws.source_model(source, seed)),
        generator=torch.Generator().manual_seed(seed),
        source_train=ws.states(source, seed, "source", "train", "pretrained"),
        source_num_labels=ws.resolve(source).task.num_labels,
        source_feature_dim=ws.resolve(source).backbone.feature_dim,
        reference=ws.trainable_copy(FitJob(target, seed, "target", budget)),
    )


def _test_logits(ws: Workspace, model: Classifier, target: str) -> torch.Tensor:
    test = ws.states(target, 0, "target", "test", "pretrained", ws.resolve(target).protocol.train_budgets[0])
    return predict_logits(model, test.states, ws.resolve(target).protocol.train)


@pytest.mark.parametrize("method", NEW_METHODS)
def test_each_new_method_beats_chance_on_the_smoke_suite(smoke_results: Path, method: str) -> None:
    per_task = pd.read_csv(smoke_results / "leaderboards/per_task.csv")
    rows = per_task[(per_task["method"] == method) & (per_task["n_seeds"] > 0)]
    assert set(rows["target"]) == {"debates", "synthetic_nli", "digits", "mnist"}
    chance = rows["target"].map(lambda t: 1.0 / get_task(t).num_labels)
    # Images (10 classes, 96 examples): well above chance; on average over every target, above it.
    image = rows["target"].isin(["digits", "mnist"])
    assert (rows.loc[image, "accuracy_mean"] > 2.5 * chance[image]).all(), rows[["target", "accuracy_mean"]]
    assert rows["accuracy_mean"].mean() > chance.mean() + 0.1


@pytest.mark.parametrize("method", NEW_METHODS)
@pytest.mark.parametrize("target,source", [("digits", "mnist"), ("debates", "synthetic_nli")])
def test_each_new_method_is_deterministic_for_a_seed(workspace: Workspace, method: str, target: str,
                                                     source: str) -> None:
    logits = [_test_logits(workspace, make_method(method).fit(_context(workspace, target, source)), target)
              for _ in range(2)]
    assert torch.equal(logits[0], logits[1])


def test_task_arithmetic_with_scale_zero_is_target_only(workspace: Workspace) -> None:
    ta = make_method("task_arithmetic", {"scales": "0"}).fit(_context(workspace, "digits", "mnist"))
    ref = make_method("target_only").fit(_context(workspace, "digits", "mnist"))
    assert torch.equal(_test_logits(workspace, ta, "digits"), _test_logits(workspace, ref, "digits"))


def test_task_arithmetic_adds_the_scaled_source_task_vector(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    ref = make_method("target_only").fit(_context(workspace, "digits", "mnist"))
    merged = make_method("task_arithmetic", {"scales": "0.5"}).fit(ctx)
    assert ctx.source is not None and ctx.training[-1]["merge_scale"] == 0.5
    pretrained = dict(ctx.make_trunk().named_parameters())
    source = dict(ctx.source.trunk.named_parameters())
    for name, p in merged.trunk.named_parameters():
        expected = dict(ref.trunk.named_parameters())[name] + 0.5 * (source[name] - pretrained[name])
        torch.testing.assert_close(p, expected)
    assert any(not torch.equal(source[n], pretrained[n]) for n in source)  # the vector is not zero


def test_the_scale_is_chosen_on_validation_accuracy(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    make_method("task_arithmetic", {"scales": "0,1,3"}).fit(ctx)
    record = ctx.training[-1]
    accuracies = record["merge_val_accuracy"]
    assert isinstance(accuracies, list) and len(accuracies) == 3
    assert record["merge_scale"] == [0.0, 1.0, 3.0][accuracies.index(max(accuracies))]
    assert ctx.examples_processed == 3 * len(ctx.validation)  # one validation pass per scale


def test_ties_merge_trims_elects_and_averages_by_hand() -> None:
    # density 0.5 keeps the 2 largest of 4 entries per vector.
    a = {"w": torch.tensor([4.0, -3.0, 0.5, 1.0])}   # keeps 4, -3
    b = {"w": torch.tensor([2.0, 5.0, -0.1, 0.2])}   # keeps 2, 5
    merged = ties_merge([a, b], density=0.5)["w"]
    # entry 0: both +, mean 3; entry 1: -3 vs +5 -> elected +, only 5 kept; entries 2, 3 trimmed.
    torch.testing.assert_close(merged, torch.tensor([3.0, 5.0, 0.0, 0.0]))
    # density 1: nothing trimmed; entry 2: 0.5 vs -0.1 -> +, 0.5; entry 3: mean of 1.0 and 0.2.
    torch.testing.assert_close(ties_merge([a, b], 1.0)["w"], torch.tensor([3.0, 5.0, 0.5, 0.6]))


def test_ties_keeps_the_target_head_and_merges_trimmed_vectors(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    model = make_method("ties", {"scales": "1", "density": "0.2"}).fit(ctx)
    pretrained = ctx.make_trunk()
    moved = torch.cat([(p - q).flatten() for p, q in zip(model.trunk.parameters(), pretrained.parameters(),
                                                         strict=True)])
    # At most the union of each vector's top 20% entries moved from the pretrained weights.
    assert 0 < (moved != 0).float().mean() <= 0.4 + 1e-6


def test_add_vector_and_task_vector_are_inverse(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    assert ctx.source is not None
    base = ctx.make_trunk()
    rebuilt = ctx.make_trunk()
    add_vector(rebuilt, base, task_vector(ctx.source.trunk, base), 1.0)
    for p, q in zip(rebuilt.parameters(), ctx.source.trunk.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_bad_scale_grids_are_one_line_errors() -> None:
    assert parse_grid("0, 0.5,1", "x") == [0.0, 0.5, 1.0]
    for bad in ("", "a,b", "0;1"):
        with pytest.raises(ValueError, match="x"):
            parse_grid(bad, "x")
    with pytest.raises(ValueError, match="density"):
        ties_merge([{"w": torch.ones(2)}], density=0.0)


def test_multitask_trains_on_source_batches_with_a_source_head(workspace: Workspace) -> None:
    ctx = _context(workspace, "debates", "synthetic_nli")  # single sentences + sentence pairs
    ctx.config = dataclasses.replace(ctx.config, max_epochs=1)
    make_method("multitask").fit(ctx)
    target_only = _context(workspace, "debates", "synthetic_nli")
    target_only.config = ctx.config
    make_method("target_only").fit(target_only)
    # One source example per target example was processed on top of the target-only work.
    assert ctx.examples_processed == target_only.examples_processed + len(ctx.train)
    # The source loss moves the shared trunk: weight 0 and weight 1 train different trunks
    # (the same batches are drawn either way).
    trunks = []
    for weight in ("0", "1"):
        c = _context(workspace, "debates", "synthetic_nli")
        c.config = ctx.config
        trunks.append(make_method("multitask", {"source_weight": weight}).fit(c).trunk.state_dict())
    assert any(not torch.equal(trunks[0][k], trunks[1][k]) for k in trunks[0])


def test_representation_fusion_trains_only_the_gate_and_head(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    assert ctx.source is not None
    source_before = copy.deepcopy(ctx.source.trunk.state_dict())
    model = make_method("representation_fusion").fit(ctx)
    trunks = model.trunk.trunks  # type: ignore[union-attr]
    for k, v in trunks[1].state_dict().items():
        assert torch.equal(v, source_before[k])
    pretrained = ctx.make_trunk().state_dict()
    for k, v in trunks[0].state_dict().items():
        assert torch.equal(v, pretrained[k])
    assert all(not p.requires_grad for t in trunks for p in t.parameters())
