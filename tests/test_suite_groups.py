"""Fusion groups in suite files: the syntax, the one-line errors, and how groups are planned."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from benchmark.errors import BenchmarkError
from benchmark.models.method import METHODS, FitContext, Method, hyperparameter_problems
from benchmark.models.training import Classifier
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


# -- planning -------------------------------------------------------------------------------

def _plan_suite(tmp_path: Path, methods: str, groups: str = '["mnist, fashion_mnist -> digits"]') -> Path:
    text = SUITE.format(groups=groups).replace("    seeds: [0, 1]", f"    methods: {methods}\n    seeds: [0]")
    path = tmp_path / "grouped.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_group_plans_the_methods_that_take_its_k_sources_into_a_source_set_folder(tmp_path: Path) -> None:
    from benchmark.runs.plan import RunFilters, plan_runs
    from benchmark.runs.store import RunStore

    suite = load_suite_file(_plan_suite(tmp_path, "[target_only, finetune, task_arithmetic]"))
    runs = [r for r in plan_runs(suite, RunFilters()) if r.target == "digits"]
    assert sorted((r.method, r.source) for r in runs) == [
        ("finetune", "mnist"), ("target_only", "-"), ("task_arithmetic", "fashion_mnist+mnist"),
        ("task_arithmetic", "mnist")]
    group_run = next(r for r in runs if r.source == "fashion_mnist+mnist")
    assert group_run.sources == ("fashion_mnist", "mnist") and group_run.source_task == "fashion_mnist+mnist"
    pair_run = next(r for r in runs if r.method == "finetune")
    assert pair_run.sources == ("mnist",)
    store = RunStore(tmp_path / "results")
    assert store.run_dir(group_run) == tmp_path / "results/runs/grouped/digits/task_arithmetic/fashion_mnist+mnist" \
        / "budget=1000/seed=0"
    assert store.run_dir(pair_run) == tmp_path / "results/runs/grouped/digits/finetune/mnist/budget=1000/seed=0"
    # A --methods filter narrows the suite's methods: no method for the group is not an error.
    narrowed = plan_runs(suite, RunFilters(methods=["finetune"]))
    assert {r.source for r in narrowed} == {"mnist"}


def test_group_methods_run_on_groups_only_and_a_filter_keeps_them_there(tmp_path: Path) -> None:
    from benchmark.runs.plan import RunFilters, plan_runs

    path = _plan_suite(tmp_path, "[target_only, finetune, task_arithmetic]\n    group_methods: [ties, fisher_merge]")
    suite = load_suite_file(path)
    runs = [(r.method, r.source) for r in plan_runs(suite, RunFilters()) if r.target == "digits"]
    # A group-only method also runs the group's leave-one-out sets (here its two pairs), so
    # group_scores.csv can say what each source adds; not the suite's other pairs.
    loo = [(m, s) for m in ("fisher_merge", "ties") for s in ("fashion_mnist", "fashion_mnist+mnist", "mnist")]
    assert sorted(runs) == sorted([("finetune", "mnist"), ("target_only", "-"), ("task_arithmetic", "mnist"), *loo])
    # --methods ties: ties is a group method of this suite, so it does not spill onto other pairs.
    filtered = [(r.method, r.source) for r in plan_runs(suite, RunFilters(methods=["ties", "finetune"]))
                if r.target == "digits"]
    assert sorted(filtered) == [("finetune", "mnist"), ("ties", "fashion_mnist"), ("ties", "fashion_mnist+mnist"),
                                ("ties", "mnist")]


@pytest.mark.parametrize(("extra", "groups", "message"), [
    ("group_methods: [tise]", '["mnist, fashion_mnist -> digits"]', "group_methods: unknown method 'tise'"),
    ("group_methods: []", '["mnist, fashion_mnist -> digits"]', "'group_methods' must be 'all' or a list"),
    ("group_methods: [ties]", "[]", "the suite has no 'groups'"),
])
def test_bad_group_methods_get_a_one_line_error(tmp_path: Path, extra: str, groups: str, message: str) -> None:
    path = _plan_suite(tmp_path, f"[target_only, finetune]\n    {extra}", groups)
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(path)
    assert "\n" not in str(info.value) and message in str(info.value)


def test_a_group_no_method_can_fuse_is_a_one_line_error_naming_the_methods(tmp_path: Path) -> None:
    from benchmark.runs.plan import RunFilters, plan_runs

    suite = load_suite_file(_plan_suite(tmp_path, "[target_only, finetune]"))
    with pytest.raises(BenchmarkError) as info:
        plan_runs(suite, RunFilters())
    text = str(info.value)
    assert "\n" not in text and "has 2 sources but none of its methods takes 2 (finetune do not)" in text
    assert "task_arithmetic" in text  # names one that does
    merge = load_suite_file(_plan_suite(tmp_path, "[target_only, distill]", '["merge: mnist, digits"]'))
    with pytest.raises(BenchmarkError, match="none of its methods merges K task models into one"):
        plan_runs(merge, RunFilters())


@dataclass
class _NegativeMaxSources(Method):
    needs_source: ClassVar[bool] = True
    max_sources: ClassVar[int] = -1

    def fit(self, ctx: FitContext) -> Classifier:
        raise NotImplementedError


def test_max_sources_is_checked_and_says_who_takes_a_group() -> None:
    assert "max_sources = -1" in hyperparameter_problems(_NegativeMaxSources)[0]
    assert METHODS.get("finetune").takes_sources(1) and not METHODS.get("finetune").takes_sources(2)
    assert METHODS.get("ties").takes_sources(8) and not METHODS.get("target_only").takes_sources(1)


def test_fit_context_keeps_source_and_the_source_pool_in_step() -> None:
    import torch

    def model() -> Classifier:
        return Classifier(torch.nn.Identity(), torch.nn.Linear(2, 2))

    def ctx(**kwargs: object) -> FitContext:
        return FitContext(backbone=None, config=None, num_labels=2, train=None, validation=None,  # type: ignore[arg-type]
                          make_trunk=torch.nn.Identity, generator=torch.Generator(), **kwargs)  # type: ignore[arg-type]

    a, b = model(), model()
    assert ctx(source=a).sources == (a,)  # a pairwise caller
    one = ctx(source=None, sources=(a,), source_label_counts=(3,), source_feature_dims=(8,))
    assert one.source is a and (one.source_num_labels, one.source_feature_dim) == (3, 8)
    two = ctx(source=None, sources=(a, b), source_label_counts=(3, 4))
    assert two.source is None and two.source_num_labels == 0  # a pairwise method cannot pick one silently
    with pytest.raises(ValueError, match="give one of them"):
        ctx(source=a, sources=(b,))
