"""Where groups run: ``group_budgets`` for many -> one groups, merge-all groups at the source
budget even when it is not a train budget, and tasks only a merge-all group evaluates (their
expert and pretrained rows and the merges, no controls). Planning only: nothing is loaded."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.roles import Roles
from benchmark.runs.store import RunId
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.suite_yaml import load_suite_file

SUITE = """
    name: placed
    tasks: [digits, mnist, fashion_mnist]
    pairs: ["mnist -> digits", "fashion_mnist -> digits"]
    groups: ["mnist, fashion_mnist -> digits", "merge: digits, mnist, fashion_mnist"]
    controls: [more]
    control_budgets: [30]
    group_budgets: [30]
    seeds: [0]
    methods: [target_only, linear_probe, scratch, finetune]
    group_methods: [finetune, task_arithmetic, average_merge]
    protocols:
      image:
        backbone: efficientnet-lite0
        budgets: {train: [30, 90], validation: 48, test: 96, source_train: 120}
    """
GROUP = "fashion_mnist+mnist"
MERGE = "digits+fashion_mnist+mnist"


def _suite(tmp_path: Path, text: str = SUITE) -> Path:
    path = tmp_path / "placed.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _cells(runs: list[RunId]) -> Counter[tuple[str, int]]:
    return Counter((r.target, r.budget) for r in runs)


def test_many_to_one_groups_run_at_their_budgets_and_merges_at_the_source_budget(tmp_path: Path) -> None:
    suite = load_suite_file(_suite(tmp_path))
    runs = plan_runs(suite, RunFilters())
    by_source: dict[str, set[int]] = {}
    for r in runs:
        by_source.setdefault(r.source, set()).add(r.budget)
    assert by_source[GROUP] == {30}  # group_budgets
    # average_merge runs on groups only: its leave-one-out pairs follow the group's budgets
    assert {r.budget for r in runs if r.method == "average_merge" and r.source in ("mnist", "fashion_mnist")} == {30}
    # source budget 120 is no train budget: only the merges and the expert / pretrained rows run there
    assert by_source[MERGE] == {120}
    at_source = {(r.target, r.method, r.source) for r in runs if r.budget == 120}
    assert at_source == ({(t, m, "-") for t in ("digits", "mnist", "fashion_mnist")
                          for m in ("target_only", "linear_probe")}
                         | {(t, m, MERGE) for t in ("digits", "mnist", "fashion_mnist")
                            for m in ("task_arithmetic", "average_merge")})


def test_a_task_only_a_merge_all_group_evaluates_gets_no_pairs_budgets_or_controls(tmp_path: Path) -> None:
    """mnist and fashion_mnist are sources of the pairs and the group; the merge-all group alone
    evaluates them: each runs at the source budget only, with no control into it."""
    suite = load_suite_file(_suite(tmp_path))
    assert suite.merge_only("mnist") and suite.merge_only("fashion_mnist") and not suite.merge_only("digits")
    assert suite.pair_targets() == ("digits",)
    assert [t for _, t in suite.pairs()].count("digits") == 3  # two pairs and its control
    cells = _cells(plan_runs(suite, RunFilters()))
    assert {c for c in cells if c[0] != "digits"} == {("mnist", 120), ("fashion_mnist", 120)}
    # a control-budget run into a merge-only task would need a control task: none is planned
    assert not [s for s, t in suite.pairs() if t in ("mnist", "fashion_mnist")]


def test_the_pretrained_role_is_a_suite_key_and_recorded(tmp_path: Path) -> None:
    text = textwrap.dedent(SUITE).replace("seeds: [0]", "seeds: [0]\npretrained: scratch")
    suite = load_suite_file(_suite(tmp_path, text))
    assert suite.roles.pretrained == "scratch"
    assert Roles.from_json(suite.roles.to_json()) == suite.roles
    assert Roles.from_json({"reference": "target_only"}).pretrained == "linear_probe"  # an older plan.json
    at_source = {r.method for r in plan_runs(suite, RunFilters()) if r.budget == 120 and r.source == "-"}
    assert at_source == {"target_only", "scratch"}


@pytest.mark.parametrize(("edit", "message"), [
    (("group_budgets: [30]", "group_budgets: [40]"), "group_budgets: 40 is not a train budget of any protocol"),
    (('groups: ["mnist, fashion_mnist -> digits", "merge: digits, mnist, fashion_mnist"]',
      'groups: ["merge: digits, mnist, fashion_mnist"]'),
     "'group_budgets' sets the budgets many -> one groups run at, but the suite has none"),
    (("seeds: [0]", "seeds: [0]\npretrained: finetune"), "pretrained: 'finetune' uses a source"),
    (("seeds: [0]", "seeds: [0]\npretrained: linear_prob"), "Did you mean 'linear_probe'?"),
    (("seeds: [0]", "seeds: [0]\ngroup_budget: [30]"), "Did you mean 'group_budgets'?"),
])
def test_a_bad_group_budget_or_pretrained_role_gets_a_one_line_error(
        tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(_suite(tmp_path, textwrap.dedent(SUITE).replace(*edit)))
    assert "\n" not in str(info.value) and message in str(info.value)


def test_the_budgets_filter_knows_the_source_budget_of_the_merges(tmp_path: Path) -> None:
    suite = load_suite_file(_suite(tmp_path))
    runs = plan_runs(suite, RunFilters(budgets=[120]))
    assert {r.budget for r in runs} == {120} and {r.source for r in runs} == {"-", MERGE}


def test_the_default_suite_runs_text_pairs_at_100_and_its_text_merge_at_1000() -> None:
    suite = get_suite("default")
    runs = plan_runs(suite, RunFilters())
    text = {"conventions", "rotten_tomatoes", "spam", "synthetic_nli"}
    at_1000 = {(r.method, r.source) for r in runs if r.target in text and r.budget == 1000}
    merge = "conventions+rotten_tomatoes+spam"
    assert {s for _, s in at_1000} == {"-", merge}
    assert {m for m, s in at_1000 if s == "-"} == {"target_only", "linear_probe"}
    assert suite.merge_only("spam") and {r.budget for r in runs if r.target == "spam"} == {1000}
    assert not [r for r in runs if "~" in (r.source or "") and r.target == "spam"]
