"""The low-data axis: target train budgets as a suite dimension.

Real data (scikit-learn's digits, MNIST from its package) and the real EfficientNet-Lite0
weights; budgets are tiny so the runs take seconds.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.data.task import Budget, column, get_task
from benchmark.errors import BenchmarkError
from benchmark.pipeline import RunRequest, run_pipeline
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import Summary, run_suite
from benchmark.runs.suite_yaml import load_suite_file

SUITE = """
    name: budgets
    description: mnist into digits at two target budgets, a positive control at the low one
    tasks: [digits, mnist]
    pairs: ["mnist -> digits"]
    controls: {more: [digits]}
    control_budgets: [30]
    seeds: [0, 1]
    methods: [target_only, finetune]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: [30, 90], validation: 48, test: 96, source_train: 120}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """


def _suite(tmp_path: Path, text: str = SUITE) -> Path:
    path = tmp_path / "budgets.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_small_draw_lies_inside_the_large_one_of_the_same_seed() -> None:
    task = get_task("digits")
    small, large = (task.load(seed=3, budget=Budget(b, 40, 80)) for b in (50, 500))
    small_ids = set(column(small["train"], "id").astype(str))
    assert len(small_ids) == 50 and small_ids <= set(column(large["train"], "id").astype(str))
    for split in ("validation", "test"):  # the budget changes the train draw only
        assert np.array_equal(column(small[split], "id"), column(large[split], "id"))
    other = task.load(seed=4, budget=Budget(50, 40, 80))
    assert set(column(other["train"], "id").astype(str)) != small_ids


def test_budgets_run_apart_and_adding_one_reruns_nothing(tmp_path: Path, smoke_cache: Path) -> None:
    results = tmp_path / "results"
    path = _suite(tmp_path)
    # Per seed: budget 30 has target_only, finetune from mnist and from digits~more; budget 90
    # has no control. mnist is only a source, so it is no target.
    summary = run_pipeline(RunRequest(str(path), results, cache_dir=smoke_cache)).runs
    assert isinstance(summary, Summary)
    assert (summary.n_planned, summary.n_failed) == (10, 0), summary.line()
    assert (results / "runs/budgets/digits/finetune/mnist/budget=90/seed=1/run.json").is_file()
    lb_dir = results / "leaderboards"
    tm = pd.read_csv(lb_dir / "transfer_matrix.csv", keep_default_na=False)
    assert sorted(zip(tm["source"], tm["budget"], strict=True)) == [
        ("digits~more", 30), ("mnist", 30), ("mnist", 90)]
    assert set(tm["family"]) == {"budgets/finetune/budget=30/crossed_t", "budgets/finetune/budget=90/crossed_t",
                                 "budgets/finetune/budget=30/positive-control/crossed_t"}
    per_task = pd.read_csv(lb_dir / "per_task.csv", keep_default_na=False)
    ref = per_task[per_task["method"] == "target_only"].set_index("budget")["n_seeds"]
    assert ref.to_dict() == {30: 2, 90: 2}
    lb = pd.read_csv(lb_dir / "leaderboard.csv")
    assert sorted(zip(lb["budget"], lb["method"], lb["rank"].between(1, 2), strict=True)) == [
        (30, "finetune", True), (30, "target_only", True), (90, "finetune", True), (90, "target_only", True)]
    report = (results / "report" / "index.md").read_text(encoding="utf-8")
    assert "Gain against budget" in report and (results / "report" / "budget_budgets.png").is_file()
    assert "Leaderboard at 30 target training examples" in report

    # A third budget adds its runs; every stored run keeps its key (nested draws, and the
    # control avoids the draws of the budgets it runs at only).
    path.write_text(path.read_text().replace("train: [30, 90]", "train: [30, 60, 90]"))
    again = run_suite(str(path), results, cache_dir=smoke_cache)
    assert (again.n_planned, again.n_skipped, again.n_ok) == (14, 10, 4), again.line()


@pytest.mark.parametrize(("edit", "message"), [
    (("train: [30, 90]", "train: [30, 30]"), "budgets.train lists a budget twice"),
    (("train: [30, 90]", "train: [30, null]"), "budgets.train must be a positive integer or a list of them"),
    (("control_budgets: [30]", "control_budgets: [40]"), "control_budgets: 40 is not a train budget"),
    (("controls: {more: [digits]}", "controls: {more: [mnist]}"), "unknown target task 'mnist'"),
    (("controls: {more: [digits]}", "controls: {more: [digitz]}"), "Did you mean 'digits'?"),
    (("seeds: [0, 1]", "seeds: [0, 1]\nmax_seeds: 2"), "max_seeds must be an integer above the 2 planned seeds"),
])
def test_a_bad_budget_or_control_setting_gets_a_one_line_error(
        tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    bad = _suite(tmp_path, textwrap.dedent(SUITE).replace(*edit))
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(bad)
    assert "\n" not in str(info.value) and message in str(info.value)


def test_the_budgets_filter_runs_one_budget_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    suite = load_suite_file(_suite(tmp_path))
    runs = plan_runs(suite, RunFilters(budgets=[90]))
    assert {r.budget for r in runs} == {90} and len(runs) == 4
    with pytest.raises(BenchmarkError, match=r"suite 'budgets' has no target budget 50; use one of \[30, 90\]"):
        plan_runs(suite, RunFilters(budgets=[50]))
