"""Method behaviour on real smoke-suite data and real backbones."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

import benchmark.models.training as training_module
from benchmark.data.task import get_task
from benchmark.errors import ConfigError
from benchmark.models.method import FitContext, make_method
from benchmark.models.training import Classifier, fit, new_head, normalized_feature_distance, pooled_features
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import Workspace


def _context(workspace: Workspace, target: str, source: str | None, seed: int = 0) -> FitContext:
    task = get_task(target)
    rt = workspace.resolve(target)
    protocol = rt.protocol
    return FitContext(
        backbone=rt.backbone, config=protocol.train, num_labels=task.num_labels,
        train=workspace.states(target, seed, "target", "train", "pretrained", protocol.train_budgets[0]),
        validation=workspace.states(target, seed, "target", "validation", "pretrained", protocol.train_budgets[0]),
        make_trunk=workspace.trunk_factory(rt, "pretrained", seed),
        source=copy.deepcopy(workspace.source_model(source, seed)) if source else None,
        generator=torch.Generator().manual_seed(seed),
    )


@pytest.fixture(scope="module")
def workspace(smoke_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(get_suite("smoke"), cache_dir=smoke_cache)


def test_finetune_starts_from_the_source_tuned_weights(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(workspace, "digits", "mnist")
    assert ctx.source is not None
    source_state = {k: v.clone() for k, v in ctx.source.trunk.state_dict().items()}
    pretrained_state = ctx.make_trunk().state_dict()
    seen: dict[str, Any] = {}
    real_fit = training_module.fit

    def spy(model: Classifier, *args: Any, **kwargs: Any) -> Any:
        seen["start"] = {k: v.clone() for k, v in model.trunk.state_dict().items()}
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(training_module, "fit", spy)  # the loop ctx.fit runs
    trained = make_method("finetune").fit(ctx)
    start = seen["start"]
    assert all(torch.equal(start[k], source_state[k]) for k in source_state)
    # The source model really differs from the pretrained one, so the check above means something.
    assert any(not torch.equal(source_state[k], pretrained_state[k]) for k in source_state)
    # And finetune trained it further on the target.
    assert any(not torch.equal(trained.trunk.state_dict()[k], source_state[k]) for k in source_state)


def _distance_to_teacher(model: Classifier, ctx: FitContext) -> float:
    assert ctx.source is not None
    s = pooled_features(model.trunk, ctx.train.states, ctx.config)
    t = pooled_features(ctx.source.trunk, ctx.train.states, ctx.config)
    return float(normalized_feature_distance(s, t))


@pytest.mark.parametrize("target,source", [("digits", "mnist"), ("debates", "synthetic_nli")])
def test_distill_moves_the_student_toward_the_teacher(workspace: Workspace, target: str, source: str) -> None:
    config = dataclasses.replace(workspace.resolve(target).protocol.train, max_epochs=3, patience=3)
    distances = {}
    for weight in (0.0, 5.0):
        ctx = _context(workspace, target, source)
        ctx.config = config
        model = make_method("distill", {"weight": weight}).fit(ctx)
        distances[weight] = _distance_to_teacher(model, ctx)
    assert distances[5.0] < distances[0.0]




@pytest.mark.parametrize("min_examples,passes", [(0, 1), (96, 1), (97, 2), (300, 4)])
def test_an_epoch_passes_over_a_small_train_set_until_it_has_seen_min_epoch_examples(
        workspace: Workspace, min_examples: int, passes: int) -> None:
    ctx = _context(workspace, "digits", None)
    n_train, n_val = len(ctx.train), len(ctx.validation)  # 96 and 48 in the smoke suite
    config = dataclasses.replace(ctx.config, max_epochs=1, min_epoch_examples=min_examples)
    model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
    result = fit(model, ctx.train, ctx.validation, config, ctx.generator)
    assert n_train == 96 and result.examples_processed == passes * n_train + n_val


def test_new_classifier_draws_the_head_a_hand_built_one_draws(workspace: Workspace) -> None:
    ctx, by_hand = _context(workspace, "digits", None), _context(workspace, "digits", None)
    model = ctx.new_classifier()
    expected = Classifier(by_hand.make_trunk(),
                          new_head(by_hand.backbone.feature_dim, by_hand.num_labels, by_hand.generator))
    for (name, value), (_, other) in zip(model.state_dict().items(), expected.state_dict().items(), strict=True):
        assert torch.equal(value, other), name
    assert model.head.out_features == ctx.num_labels
    # Both generators advanced alike: what the method draws next is the same too.
    assert torch.equal(torch.rand(3, generator=ctx.generator), torch.rand(3, generator=by_hand.generator))


def test_source_trunk_is_a_trainable_copy_and_needs_a_source(workspace: Workspace) -> None:
    ctx = _context(workspace, "digits", "mnist")
    assert ctx.source is not None
    trunk = ctx.source_trunk()
    assert trunk is not ctx.source.trunk and all(p.requires_grad for p in trunk.parameters())
    assert not any(p.requires_grad for p in ctx.source.trunk.parameters())
    for k, v in trunk.state_dict().items():
        assert torch.equal(v, ctx.source.trunk.state_dict()[k])
    with pytest.raises(ConfigError, match="needs_source: ClassVar"):
        _context(workspace, "digits", None).source_trunk()


def test_ctx_counts_the_examples_each_helper_processed(workspace: Workspace) -> None:
    """One epoch each: the loop's examples plus what ran outside it, counted by the helpers."""
    contexts = {m: _context(workspace, "digits", "mnist") for m in ("target_only", "distill", "linear_probe")}
    for method, ctx in contexts.items():
        ctx.config = dataclasses.replace(ctx.config, max_epochs=1)
        make_method(method, {"epochs": 1} if method == "linear_probe" else None).fit(ctx)
    n_train, n_val = len(contexts["target_only"].train), len(contexts["target_only"].validation)
    one_epoch = n_train + n_val
    assert contexts["target_only"].examples_processed == one_epoch
    assert contexts["distill"].examples_processed == one_epoch + n_train  # the teacher's features
    assert contexts["linear_probe"].examples_processed == one_epoch + n_train + n_val  # the features
    assert [len(c.training) for c in contexts.values()] == [1, 1, 1]
