"""Control sources (``T~more``, ``T~shuffled``): their data, and how they run and are reported.

Real data (scikit-learn's digits) and the real EfficientNet-Lite0 weights.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from benchmark.data.controls import control_tasks, expected_direction, parse_control
from benchmark.data.task import Budget, column, get_task
from benchmark.errors import BenchmarkError
from benchmark.pipeline import RunRequest, run_pipeline
from benchmark.runs.suite_yaml import load_suite_file

SUITE = """
    name: controlled
    description: digits and mnist with controls
    tasks: [digits, mnist]
    controls: [more, shuffled]
    seeds: [0, 1]
    methods: [target_only, finetune]
    protocols:
      image:
        backbone: efficientnet-lite0
        trainable: top-1
        budgets: {train: 60, validation: 48, test: 96, source_train: 200}
        train: {max_epochs: 2, patience: 1, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
    """


def _suite(tmp_path: Path, text: str = SUITE) -> Path:
    path = tmp_path / "controlled.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_control_names_and_directions() -> None:
    assert parse_control("digits~more") == ("digits", "more")
    assert parse_control("digits~other") is None and parse_control("digits") is None
    assert (expected_direction("a~more"), expected_direction("a~shuffled"), expected_direction("a")) == \
        ("positive", "negative", "")


def test_control_data_avoid_the_targets_draws_and_shuffle_only_labels() -> None:
    more_task, shuffled_task = control_tasks(get_task("digits"), ["more", "shuffled"], [60, 200])  # two budgets
    assert (more_task.name, shuffled_task.name) == ("digits~more", "digits~shuffled")
    for seed in (0, 1):
        more = more_task.load(seed, Budget(300, 48, 96))
        shuffled = shuffled_task.load(seed, Budget(300, 48, 96))
        for budget in (60, 200):
            target = get_task("digits").load(seed, Budget(budget, 48, 96))
            assert not set(target["train"]["id"]) & set(more["train"]["id"])
            assert more["validation"]["id"] == target["validation"]["id"]  # the target's own validation
        assert len(more["train"]) == 300 and more["train"]["id"] == shuffled["train"]["id"]
        same = column(more["train"], "label") == column(shuffled["train"], "label")
        assert 0.02 < same.mean() < 0.3  # ten classes: about 1 in 10 keeps its label by chance
        assert sorted(column(more["train"], "label")) == sorted(column(shuffled["train"], "label"))


def test_text_controls_shuffle_too() -> None:
    (control,) = control_tasks(get_task("rotten_tomatoes"), ["shuffled"], [100])
    shuffled = control.load(0, Budget(200, 50, 50))
    target = get_task("rotten_tomatoes").load(0, Budget(200, 50, 50))
    assert column(shuffled["validation"], "label").tolist() != column(target["validation"], "label").tolist()
    assert shuffled["validation"]["id"] == target["validation"]["id"]


def test_a_control_with_no_data_left_is_a_clear_error() -> None:
    (control,) = control_tasks(get_task("digits"), ["more"], [None])  # type: ignore[list-item]
    with pytest.raises(BenchmarkError, match="lower the budget or drop the control"):
        control.load(0, Budget(100, 48, 96))


def test_unknown_control_kind_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(_suite(tmp_path, SUITE.replace("[more, shuffled]", "[more, shufled]")))
    assert "Did you mean 'shuffled'?" in str(info.value) and "\n" not in str(info.value)


def test_controls_run_as_sources_and_stay_out_of_the_method_ranking(tmp_path: Path, smoke_cache: Path) -> None:
    results = tmp_path / "results"
    summary = run_pipeline(RunRequest(str(_suite(tmp_path)), results, cache_dir=smoke_cache))
    assert summary.n_failed == 0, summary.line()
    lb_dir = results / "leaderboards"
    tm = pd.read_csv(lb_dir / "transfer_matrix.csv", keep_default_na=False)
    ft = tm[(tm["method"] == "finetune") & (tm["target"] == "digits")].set_index("source")
    assert set(ft.index) == {"mnist", "digits~more", "digits~shuffled"}
    assert ft.loc["mnist", "control"] == "" and ft.loc["mnist", "family"] == "controlled/finetune/budget=60/crossed_t"
    assert ft.loc["digits~more", "control"] == "positive" and ft.loc["digits~shuffled", "control"] == "negative"
    assert ft.loc["digits~more", "family"] == "controlled/finetune/budget=60/positive-control/crossed_t"
    sig = pd.read_csv(lb_dir / "significance.csv", keep_default_na=False)
    assert set(sig.loc[sig["source"] == "digits~shuffled", "control"]) == {"negative"}
    per_task = pd.read_csv(lb_dir / "per_task.csv", keep_default_na=False)
    assert set(per_task.loc[per_task["source"] == "-", "control"]) == {""}
    lb = pd.read_csv(lb_dir / "leaderboard.csv").set_index("method")
    assert lb.loc["finetune", "n_pairs"] == 2  # mnist -> digits and digits -> mnist; no control
    neg = pd.read_csv(lb_dir / "negative_transfer.csv", keep_default_na=False)
    assert not neg["source"].str.contains("~").any()
    report = (results / "report" / "index.md").read_text(encoding="utf-8")
    assert "What this suite can see" in report and "digits~more" in report
    assert report.index("### What this suite can see") < report.index("### Leaderboard")
