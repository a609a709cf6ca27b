"""Fusion groups in suite files: the syntax, the one-line errors, and how groups are planned."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.runs.groups import Group, parse_group, source_set, split_source_set
from benchmark.runs.suite_yaml import load_suite_file

SUITE = """
    name: grouped
    tasks: [debates, synthetic_nli, digits, mnist, fashion_mnist]
    pairs: ["mnist -> digits"]
    groups: {groups}
    seeds: [0, 1]
    protocols:
      text: {{backbone: minilm-l6}}
      image: {{backbone: efficientnet-lite0}}
    """


def _suite_file(tmp_path: Path, groups: str) -> Path:
    path = tmp_path / "grouped.yaml"
    path.write_text(textwrap.dedent(SUITE.format(groups=groups)).lstrip(), encoding="utf-8")
    return path


def test_groups_are_read_with_sorted_sources_and_their_target_is_a_target(tmp_path: Path) -> None:
    suite = load_suite_file(_suite_file(
        tmp_path, '["mnist, fashion_mnist -> digits", "merge: mnist, digits, fashion_mnist"]'))
    assert suite.groups == (Group("many-to-one", ("fashion_mnist", "mnist"), "digits"),
                            Group("merge-all", ("digits", "fashion_mnist", "mnist")))
    assert suite.groups[0].source_set == "fashion_mnist+mnist"
    assert suite.groups_into("digits") == [suite.groups[0]]
    # The pair and the many -> one group use mnist as a source only, but the merge-all group
    # evaluates every one of its tasks (tasks in no pair or group stay targets, as before).
    assert suite.targets() == ("debates", "synthetic_nli", "digits", "mnist", "fashion_mnist")


def test_a_many_to_one_groups_sources_are_sources_only(tmp_path: Path) -> None:
    suite = load_suite_file(_suite_file(tmp_path, '["mnist, fashion_mnist -> digits"]'))
    assert suite.targets() == ("debates", "synthetic_nli", "digits")


@pytest.mark.parametrize(("groups", "message"), [
    ('["mnist, fashion_mnsit -> digits"]', "unknown task 'fashion_mnsit' in this suite. Did you mean 'fashion_mnist'?"),
    ('["merge: mnist, digts"]', "Did you mean 'digits'?"),
    ('["mnist, debates -> digits"]', "crosses input families (debates: text, mnist: image, digits: image)"),
    ('["mnist -> digits"]', "has 1 source; a group fuses K >= 2 sources"),
    ('["merge: mnist"]', "merges 1 task; a merge-all group merges K >= 2 tasks"),
    ('["mnist, digits -> digits"]', "lists its target 'digits' among its sources"),
    ('["mnist, fashion_mnist -> digits", "fashion_mnist, mnist -> digits"]',
     "repeats group 'mnist, fashion_mnist -> digits'"),
    ('["merge: mnist, digits", "merge: digits, mnist"]', "repeats group 'merge: mnist, digits'"),
    ('["mnist, mnist -> digits"]', "names mnist twice"),
    ('["mnist, , fashion_mnist -> digits"]', "empty task name"),
    ('["mnist, fashion_mnist => digits"]', "is neither 'a, b -> target'"),
    ('["mnist, fashion_mnist -> digits, debates"]', "exactly one target"),
    ('"mnist, fashion_mnist -> digits"', "'groups' must be a list"),
])
def test_a_bad_group_gets_a_one_line_error(tmp_path: Path, groups: str, message: str) -> None:
    path = _suite_file(tmp_path, groups)
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    assert message in text


def test_source_set_names_are_canonical_and_one_source_is_its_name() -> None:
    assert source_set(["mnist"]) == "mnist"  # a pair's folder and CSV value are unchanged
    assert source_set(["mnist", "digits"]) == source_set(["digits", "mnist"]) == "digits+mnist"
    assert split_source_set("digits+mnist") == ("digits", "mnist")
    assert split_source_set("mnist~more") == ("mnist~more",)
    for bad in ([], ["a", "a"], ["a+b"]):
        with pytest.raises(ValueError):
            source_set(bad)
    assert parse_group("merge:b,a") == Group("merge-all", ("a", "b"))
    assert parse_group(" b , a->t ").label() == "a, b -> t"
