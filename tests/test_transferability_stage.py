"""Transferability scores end to end on real data and real backbones: digits with two candidate
sources (mnist, fashion_mnist), scored before target training and ranked against finetune's gain."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.analysis.estimators import estimators as registered_estimators
from benchmark.analysis.leaderboard import build_leaderboards
from benchmark.analysis.stats import transferability as estimators
from benchmark.models.training import pooled_features
from benchmark.pipeline.transferability import Item, items_to_score, score_suite
from benchmark.runs.runner import run_suite
from benchmark.runs.suite_yaml import load_suite_file
from benchmark.runs.workspace import Workspace

SUITE = """
    name: choose
    description: which of two sources helps digits more
    tasks: [digits, mnist, fashion_mnist]
    pairs: ["mnist -> digits", "fashion_mnist -> digits"]
    controls: {more: [digits]}
    seeds: [0, 1, 2]
    methods: [target_only, finetune]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: 60, validation: 48, test: 96, source_train: 120}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("choose")
    suite = root / "choose.yaml"
    suite.write_text(textwrap.dedent(SUITE).lstrip(), encoding="utf-8")
    results = root / "results"
    assert run_suite(str(suite), results, cache_dir=smoke_cache).n_failed == 0
    assert score_suite(str(suite), results, cache_dir=smoke_cache) == (6, 0, 0)  # 2 sources x 3 seeds
    build_leaderboards(results, n_resamples=200)
    return suite, results


def test_only_real_sources_with_a_finetune_run_are_scored(scored: tuple[Path, Path]) -> None:
    _, results = scored
    items = items_to_score(results, "choose", "finetune")
    assert {(i.source, i.target) for i in items} == {("mnist", "digits"), ("fashion_mnist", "digits")}
    assert sorted({i.seed for i in items}) == [0, 1, 2]  # the control digits~more is not a candidate


def test_scores_are_the_estimators_on_the_source_features_of_the_target_train_draw(
        scored: tuple[Path, Path], smoke_cache: Path) -> None:
    suite, results = scored
    item = Item("choose", "mnist", "digits", 60, 1)
    record = json.loads(item.path(results).read_text())
    ws = Workspace(load_suite_file(suite), cache_dir=smoke_cache)
    model = ws.source_model("mnist", 1)
    train = ws.states("digits", 1, "target", "train", "pretrained", 60)
    features = pooled_features(model.trunk, train.states, ws.resolve("digits").protocol.train).double().numpy()
    labels = train.labels.numpy()
    assert len(labels) == 60
    assert record["scores"]["logme"] == pytest.approx(estimators.logme(features, labels))
    assert record["scores"]["h_score"] == pytest.approx(estimators.h_score(features, labels))
    assert record["scores"]["knn"] == pytest.approx(estimators.knn_probe_accuracy(features, labels, k=5))
    assert set(record["scores"]) == set(registered_estimators()) and record["error"] is None


def test_transferability_csv_pairs_scores_with_judge_gains(scored: tuple[Path, Path]) -> None:
    _, results = scored
    table = pd.read_csv(results / "leaderboards/transferability.csv")
    assert len(table) == 2 * len(registered_estimators())
    assert set(table["n_sources"]) == {2} and set(table["n_seeds"]) == {3}
    # judge_gain = mean over seeds of (finetune - target_only) accuracy, from the run records.
    runs = results / "runs/choose/digits"
    for source in ("mnist", "fashion_mnist"):
        gains = []
        for seed in (0, 1, 2):
            ft = json.loads((runs / f"finetune/{source}/budget=60/seed={seed}/run.json").read_text())
            ref = json.loads((runs / f"target_only/-/budget=60/seed={seed}/run.json").read_text())
            gains.append(ft["accuracy"] - ref["accuracy"])
        assert table.loc[table["source"] == source, "judge_gain"].to_numpy() == pytest.approx(np.mean(gains))
    for _, rows in table.groupby("estimator"):
        # Two sources: tau is +1 when the higher score goes with the higher gain, else -1.
        order = np.sign(np.diff(rows["score"].to_numpy())) * np.sign(np.diff(rows["judge_gain"].to_numpy()))
        tau = rows["kendall_tau"].iloc[0]
        if order[0] != 0:
            assert tau == order[0]
            assert rows["kendall_tau_low"].iloc[0] <= tau <= rows["kendall_tau_high"].iloc[0]
        if rows["estimator"].iloc[0] == "h_score":  # 60 examples < 1280 features: saturated, tied
            assert rows["score"].nunique() == 1 and np.isnan(tau)
    ranking = pd.read_csv(results / "leaderboards/transferability_ranking.csv")
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    taus = ranking["mean_kendall_tau"]
    defined = taus.dropna()
    assert list(defined) == sorted(defined, reverse=True)  # best first, undefined (all tied) last
    assert taus.isna().tolist() == [False] * len(defined) + [True] * (len(taus) - len(defined))


def test_scoring_resumes_and_redoes_only_missing_or_unreadable_items(scored: tuple[Path, Path],
                                                                     smoke_cache: Path) -> None:
    suite, results = scored
    assert score_suite(str(suite), results, cache_dir=smoke_cache) == (0, 6, 0)
    first = Item("choose", "mnist", "digits", 60, 0).path(results)
    second = Item("choose", "fashion_mnist", "digits", 60, 2).path(results)
    before = json.loads(first.read_text())["scores"]
    first.unlink()
    second.write_text('{"suite": "choose", "key": ')  # torn
    assert score_suite(str(suite), results, cache_dir=smoke_cache) == (2, 4, 0)
    assert json.loads(first.read_text())["scores"] == before  # deterministic
    json.loads(second.read_text())


def test_the_report_ranks_the_estimators_with_a_figure(scored: tuple[Path, Path]) -> None:
    from benchmark.analysis.report import build_report

    _, results = scored
    written = build_report(results)
    page = (results / "report/index.md").read_text(encoding="utf-8")
    section = page.split("### Predicting transfer before training", 1)[1].split("\n### ", 1)[0]
    ranking = pd.read_csv(results / "leaderboards/transferability_ranking.csv")
    for name in ranking["estimator"]:
        assert f"| {name} |" in section
    assert any(p.name == "transferability_choose.png" for p in written)
