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
    methods: [target_only, task_arithmetic, ties, dare_ties, average_merge, fisher_merge, regmean, distill, multitask,
              representation_fusion]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: 96, validation: 48, test: 96, source_train: 96}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """
GROUP = "fashion_mnist+mnist"
MERGERS = ("task_arithmetic", "ties", "dare_ties", "average_merge", "fisher_merge", "regmean")
TRAINERS = ("distill", "multitask", "representation_fusion")


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> tuple[Path, Path]:
    """(suite file, results folder) of the tiny suite, run once, DARE's drop rate at 0."""
    root = tmp_path_factory.mktemp("groups")
    suite_file = root / "groups_tiny.yaml"
    suite_file.write_text(textwrap.dedent(SUITE).lstrip(), encoding="utf-8")
    summary = run_suite(str(suite_file), root / "results", RunFilters(hyperparameters=["dare_ties.drop_rate=0"]),
                        cache_dir=smoke_cache)
    # target_only, then 6 merging and 3 training methods on the pair and on the group
    assert (summary.n_planned, summary.n_failed) == (19, 0), summary.line()
    return suite_file, root / "results"


def _run(results: Path, method: str, source: str) -> tuple[dict[str, object], pd.DataFrame]:
    folder = results / "runs/groups_tiny/digits" / method / source / "budget=96/seed=0"
    return json.loads((folder / "run.json").read_text()), pd.read_parquet(folder / "predictions.parquet")


@pytest.mark.parametrize("method", MERGERS + TRAINERS)
def test_a_group_runs_into_its_source_set_folder_and_records_its_merge(grouped: tuple[Path, Path],
                                                                       method: str) -> None:
    record, predictions = _run(grouped[1], method, GROUP)
    assert record["status"] == "ok" and record["source"] == GROUP and len(predictions) == record["n_test"]
    assert set(record["plugins"]["tasks"]) == {"digits", "fashion_mnist", "mnist"}  # every source is traced
    merge = record["training"][-1]
    if method in TRAINERS:  # the target's training history, early-stopped on validation
        assert "val_accuracy" in merge and "best_epoch" in merge
    elif method == "average_merge":
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


def _workspace_models(suite_file: Path, smoke_cache: Path, sources: tuple[str, ...]):  # type: ignore[no-untyped-def]
    ws = WorkspaceSpec(get_suite(str(suite_file)), "cpu", smoke_cache).build()
    model = ws.trainable_copy(FitJob("digits", 0, "target", 96))
    fits = [ws.fitted(FitJob(s, 0)) for s in sources]
    draws = [ws.states("digits", 0, "target", "train", "pretrained", 96),
             *(ws.states(s, 0, "source", "train", "pretrained") for s in sources)]
    return ws, model, fits, draws


def _stored_probabilities_match(ws, model, results: Path, method: str, source: str) -> None:  # type: ignore[no-untyped-def]
    rt = ws.resolve("digits")
    test = ws.states("digits", 0, "target", "test", "pretrained", 96)
    probabilities = torch.softmax(predict_logits(model, test.states, rt.protocol.train), 1).numpy()
    _, stored = _run(results, method, source)
    assert (np.stack(stored["probabilities"].to_list()) == probabilities).all()  # bit for bit


@pytest.mark.parametrize("source", ["mnist", GROUP])
def test_fisher_merge_run_is_fisher_merge_of_its_models(grouped: tuple[Path, Path], smoke_cache: Path,
                                                        source: str) -> None:
    """The run's trunk is fisher_merge of the target-tuned and source-tuned trunks, each weighted by
    its Fisher on its own training draw, at the recorded target weight; the recorded Fisher masses
    are those Fishers'."""
    from benchmark.baselines.fisher_merge import empirical_fisher, weighted_fishers
    from benchmark.models.merge_many import differing_parameters, fisher_merge

    suite_file, results = grouped
    record, _ = _run(results, "fisher_merge", source)
    merge = record["training"][-1]
    ws, model, fits, draws = _workspace_models(suite_file, smoke_cache, tuple(source.split("+")))
    try:
        models = [model, *fits]
        names = differing_parameters([m.trunk for m in models])
        assert merge["merged_models"] == len(models) and merge["merged_parameters"] == len(names) > 0
        fishers = [empirical_fisher(m, d, names, max_examples=256) for m, d in zip(models, draws, strict=True)]
        masses = [float(sum(f.sum() for f in fisher.values())) for fisher in fishers]
        assert masses == pytest.approx(merge["fisher_mass"], rel=1e-6) and min(masses) > 0
        thetas = [{n: p.detach().clone() for n, p in m.trunk.named_parameters() if n in names} for m in models]
        merged = fisher_merge(thetas, weighted_fishers(fishers, merge["merge_scale"]))
        with torch.no_grad():
            for n, p in model.trunk.named_parameters():
                if n in merged:
                    p.copy_(merged[n])
        _stored_probabilities_match(ws, model, results, "fisher_merge", source)
    finally:
        ws.close()


@pytest.mark.parametrize("source", ["mnist", GROUP])
def test_regmean_run_is_regmean_of_its_models(grouped: tuple[Path, Path], smoke_cache: Path, source: str) -> None:
    """The run's trunk is regmean_merge_modules of the target-tuned and source-tuned trunks (Grams
    of each on its own training draw) at the recorded alpha, on the parameters tuning changed."""
    from benchmark.baselines.regmean import trunk_grams
    from benchmark.models.merge_many import differing_parameters, regmean_merge_modules

    suite_file, results = grouped
    record, _ = _run(results, "regmean", source)
    merge = record["training"][-1]
    ws, model, fits, draws = _workspace_models(suite_file, smoke_cache, tuple(source.split("+")))
    try:
        config = ws.resolve("digits").protocol.train
        trunks = [model.trunk, *(f.trunk for f in fits)]
        grams = [trunk_grams(t, d, config, max_examples=1024) for t, d in zip(trunks, draws, strict=True)]
        names = differing_parameters(trunks)
        assert merge["merged_models"] == len(trunks) and merge["merged_parameters"] == len(names) > 0
        merged = regmean_merge_modules(trunks, None, merge["merge_scale"], grams_per_module=grams)
        with torch.no_grad():
            for n, p in model.trunk.named_parameters():
                if n in names:
                    p.copy_(merged[n])
        _stored_probabilities_match(ws, model, results, "regmean", source)
    finally:
        ws.close()


# The pairwise implementations as written before fusion groups (one source), kept to pin K = 1.
def _legacy_distill(ctx, weight: float = 1.0, temperature: float = 0.5):  # type: ignore[no-untyped-def]
    from benchmark.baselines.distill import representation_distillation_loss

    teacher = ctx.features(ctx.source.trunk, ctx.train).to(ctx.device)
    model = ctx.new_classifier()

    def extra(features, logits, idx):  # type: ignore[no-untyped-def]
        return weight * representation_distillation_loss(features, teacher[idx], temperature)

    return ctx.fit(model, extra_loss=extra, desc="distill")


def _legacy_multitask(ctx, source_weight: float = 1.0):  # type: ignore[no-untyped-def]
    import torch.nn.functional as F

    from benchmark.models.training import new_head

    source = ctx.source_train
    model = ctx.new_classifier()
    source_head = new_head(ctx.source_feature_dim, ctx.source_num_labels, ctx.generator).to(ctx.device)

    def source_loss(features, logits, idx):  # type: ignore[no-untyped-def]
        batch = torch.randint(len(source), (len(idx),), generator=ctx.generator)
        source_logits = source_head(ctx.batch_features(model.trunk, source.states, batch))
        return source_weight * F.cross_entropy(source_logits.float(), source.labels[batch].to(ctx.device))

    return ctx.fit(model, extra_loss=source_loss, extra_parameters=list(source_head.parameters()), desc="multitask")


def _legacy_representation_fusion(ctx, lr: float = 1e-3, epochs: int = 40, patience: int = 6):  # type: ignore[no-untyped-def]
    import dataclasses

    from benchmark.baselines.representation_fusion import FusedTrunk, FusionAttention
    from benchmark.models.backbones.base import States
    from benchmark.models.training import Classifier, LabeledStates, freeze

    trunks = [freeze(ctx.make_trunk()), freeze(ctx.source.trunk)]

    def stacked(data):  # type: ignore[no-untyped-def]
        views = [ctx.features(t, data) for t in trunks]
        return LabeledStates(States.dense(torch.stack(views, dim=1)), data.labels, data.ids)

    train, val = stacked(ctx.train), stacked(ctx.validation)
    fusion = FusionAttention(ctx.backbone.feature_dim, ctx.generator)
    config = dataclasses.replace(ctx.config, head_lr=lr, patience=patience, bf16=False)
    gate = ctx.fit(ctx.new_classifier(fusion), train=train, validation=val, config=config, max_epochs=epochs, lr=lr,
                   desc="representation_fusion")
    return Classifier(FusedTrunk(trunks, fusion), gate.head)


LEGACY = {"distill": _legacy_distill, "multitask": _legacy_multitask,
          "representation_fusion": _legacy_representation_fusion}


@pytest.mark.parametrize("method", TRAINERS)
def test_one_source_trains_what_the_pairwise_method_trained(grouped: tuple[Path, Path], smoke_cache: Path,
                                                            method: str) -> None:
    """distill, multitask and representation_fusion written for K sources give, with one source, the
    pairwise implementation's model bit for bit (same context, same seed, same process)."""
    from benchmark.models.method import FitContext, make_method

    suite_file, _ = grouped
    ws = WorkspaceSpec(get_suite(str(suite_file)), "cpu", smoke_cache).build()
    try:
        rt = ws.resolve("digits")

        def context() -> FitContext:
            return FitContext(
                backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
                train=ws.states("digits", 0, "target", "train", "pretrained", 96),
                validation=ws.states("digits", 0, "target", "validation", "pretrained", 96),
                make_trunk=ws.trunk_factory(rt, "pretrained", 0), source=copy.deepcopy(ws.fitted(FitJob("mnist", 0))),
                generator=torch.Generator().manual_seed(0),
                source_train=ws.states("mnist", 0, "source", "train", "pretrained"),
                source_num_labels=ws.resolve("mnist").task.num_labels,
                source_feature_dim=ws.resolve("mnist").backbone.feature_dim)

        test = ws.states("digits", 0, "target", "test", "pretrained", 96)
        new_ctx, old_ctx = context(), context()
        new = predict_logits(make_method(method).fit(new_ctx), test.states, rt.protocol.train)
        old = predict_logits(LEGACY[method](old_ctx), test.states, rt.protocol.train)
    finally:
        ws.close()
    assert torch.equal(new, old)
    assert new_ctx.examples_processed == old_ctx.examples_processed and new_ctx.training == old_ctx.training
