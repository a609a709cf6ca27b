"""Every registered task, on the real offline data installed here.

Parametrised over the task registry: each task either loads to the standard DatasetDict or
reports itself unavailable with a reason. The eight offline tasks must be available on a
machine set up with ``scripts/setup.sh`` and have the documented sizes. Image tasks read
the on-disk cache after the first load (the first ever load of fashion_mnist takes ~7 s).
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from benchmark.data import nli_generator, nli_lexicon, nli_scenes
from benchmark.data.task import INPUT_COLUMNS, SPLITS, Budget, Task, column, get_task, task_names
from benchmark.errors import SourceUnavailable

#: Total examples across train/validation/test for the offline tasks (issue 2).
OFFLINE_SIZES: dict[str, int] = {
    "rotten_tomatoes": 12_752,
    "spam": 6_046,
    "debates": 1_122,
    "conventions": 2_942,
    "synthetic_nli": 6_000,
    "fashion_mnist": 70_000,
    "mnist": 5_000,
    "digits": 1_797,
}
HUB_ONLY = ("rte", "mrpc", "sst2", "mnli", "snli", "cifar10")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _check_standard(task: Task, full: datasets.DatasetDict) -> None:
    assert list(full) == list(SPLITS)
    all_ids: list[str] = []
    for split in SPLITS:
        ds = full[split]
        assert len(ds) > 0, split
        assert ds.column_names == ["id", *INPUT_COLUMNS[task.kind], "label"], split
        label = ds.features["label"]
        assert isinstance(label, datasets.ClassLabel)
        assert tuple(label.names) == task.label_names
        assert ds.features["id"] == datasets.Value("string")
        labels = column(ds, "label")
        assert labels.min() >= 0 and labels.max() < task.num_labels
        all_ids += column(ds, "id").tolist()
    assert len(set(all_ids)) == len(all_ids), "ids must be unique across splits"


@pytest.mark.parametrize("name", task_names())
def test_registered_task_loads_or_says_why_not(name: str) -> None:
    task = get_task(name)
    assert task.name == name
    assert task.description, "every task describes itself"
    source, reasons = task.availability()
    if source is None:
        assert reasons and all(r.strip() and "\n" not in r for r in reasons)
        with pytest.raises(SourceUnavailable) as err:
            task.load_full()
        assert "\n" not in str(err.value)
        return
    full = task.load_full()
    _check_standard(task, full)
    assert task.source_used == source.description


@pytest.mark.parametrize("name", sorted(OFFLINE_SIZES))
def test_offline_tasks_are_available_with_documented_sizes(name: str) -> None:
    task = get_task(name)
    source, reasons = task.availability()
    assert source is not None, f"{name} should be installed here: {reasons}"
    full = task.load_full()
    assert sum(len(full[s]) for s in SPLITS) == OFFLINE_SIZES[name]
    assert "offline" in source.description or "synthetic" in source.description


@pytest.mark.parametrize("name", HUB_ONLY)
def test_hub_only_tasks_report_offline(name: str) -> None:
    task = get_task(name)
    source, reasons = task.availability()
    assert source is None
    assert any("HF_DATASETS_OFFLINE=1" in r or "HF_HUB_OFFLINE=1" in r for r in reasons)


def test_offline_tasks_list_a_hub_fallback() -> None:
    for name, hub_id in (
        ("rotten_tomatoes", "cornell-movie-review-data/rotten_tomatoes"),
        ("fashion_mnist", "zalando-datasets/fashion_mnist"),
        ("mnist", "ylecun/mnist"),
    ):
        assert any(hub_id in s.description for s in get_task(name).sources[1:]), name


def test_official_splits_are_kept_and_label_sets_are_right() -> None:
    fashion = get_task("fashion_mnist").load_full()
    assert len(fashion["test"]) == 10_000  # the official t10k split
    assert len(fashion["train"]) + len(fashion["validation"]) == 60_000
    assert all(i.startswith("train-") for i in column(fashion["validation"], "id")[:50])
    img = fashion["test"][0]["image"]
    assert img.size == (28, 28) and img.mode == "L"
    assert get_task("digits").load_full()["train"][0]["image"].size == (8, 8)
    assert get_task("debates").label_names == ("Democratic", "Moderator", "Republican")
    spam = get_task("spam").load_full()
    n_spam = sum(int((column(spam[s], "label") == 1).sum()) for s in SPLITS)
    assert n_spam == 1_896  # groups spam-1 (500) + spam-2 (1,396)


@pytest.mark.parametrize("name", ["rotten_tomatoes", "synthetic_nli", "fashion_mnist"])
def test_subsample_is_seeded(name: str) -> None:
    task = get_task(name)
    budget = Budget(train=200, validation=50, test=100)
    a, b, c = (
        task.load(seed=1, budget=budget),
        task.load(seed=1, budget=budget),
        task.load(2, budget),
    )
    for split in SPLITS:
        assert len(a[split]) == getattr(budget, split)
        assert column(a[split], "id").tolist() == column(b[split], "id").tolist()
    assert column(a["train"], "id").tolist() != column(c["train"], "id").tolist()
    assert column(a["validation"], "id").tolist() != column(c["validation"], "id").tolist()
    # every seed and method is scored on the same test examples (paired statistics)
    assert column(a["test"], "id").tolist() == column(c["test"], "id").tolist()


def test_budget_larger_than_split_keeps_everything() -> None:
    task = get_task("debates")
    full = task.load_full()
    out = task.load(seed=3, budget=Budget(train=10**6))
    assert len(out["train"]) == len(full["train"])


def test_carved_splits_do_not_depend_on_the_run_seed() -> None:
    task = get_task("debates")
    ids = column(task.load(seed=0)["test"], "id").tolist()
    assert ids == column(task.load(seed=7)["test"], "id").tolist()


# -- the generated NLI task ----------------------------------------------------------------
def test_synthetic_nli_is_marked_and_balanced() -> None:
    task = get_task("synthetic_nli")
    assert task.synthetic and task.description.startswith("SYNTHETIC:")
    assert task.kind == "text-pair" and task.label_names == nli_generator.LABELS
    full = task.load_full()
    counts = np.zeros(3, dtype=int)
    for split in SPLITS:
        counts += np.bincount(column(full[split], "label"), minlength=3)
    assert counts.tolist() == [2000, 2000, 2000]


def test_nli_generator_is_deterministic_and_consistent() -> None:
    first = nli_generator.generate(600, seed=5)
    assert first == nli_generator.generate(600, seed=5)
    assert first != nli_generator.generate(600, seed=6)
    pairs = [(p, h) for p, h, _ in first]
    assert len(set(pairs)) == len(pairs)
    assert all(p != h and p.endswith(".") and h.endswith(".") for p, h in pairs)
    for (
        a,
        b,
    ) in nli_lexicon.COMPATIBLE_ACTIONS:  # no action pair is both neutral and contradictory
        assert not nli_lexicon._exclusive(a, b, nli_lexicon.EXCLUSIVE_ACTIONS), (a, b)


def test_nli_generator_examples_follow_the_lexical_relations() -> None:
    g = nli_scenes._Gen(np.random.default_rng(0))
    pasts = {past for past, _, _ in nli_lexicon.VERBS}
    for _ in range(50):
        # entailed passive: the active sentence's subject is the passive's agent
        pair = nli_scenes.e_passive(g)
        assert pair is not None
        p, h = pair
        active, passive = (p, h) if " was " in h else (h, p)
        words = active.strip(".").split()
        subject = words[next(i for i, w in enumerate(words) if w in pasts) - 1]
        assert passive.strip(".").split()[-1] == subject
        # HANS swap: the very same words, in another order, not entailed
        pair = nli_scenes.n_swap(g)
        assert pair is not None
        p, h = pair
        if " was " not in h:
            assert p != h and sorted(p.lower().strip(".").split()) == sorted(
                h.lower().strip(".").split()
            )
    assert nli_lexicon._ancestors("poodle") == ["dog", "animal"]
    assert "beagle" in nli_lexicon._co_hyponyms("poodle")
    assert "musician" not in nli_lexicon._co_hyponyms("man")  # a man may be a musician


def test_synthetic_nli_is_not_solved_by_one_word() -> None:
    """A one-word rule (decision stump on premise/hypothesis word differences) stays weak."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.tree import DecisionTreeClassifier

    full = get_task("synthetic_nli").load_full()

    def features(ds: datasets.Dataset) -> list[str]:
        out = []
        for p, h in zip(column(ds, "premise"), column(ds, "hypothesis"), strict=True):
            pw, hw = set(p.lower().strip(".").split()), set(h.lower().strip(".").split())
            out.append(" ".join([f"H_{w}" for w in hw - pw] + [f"P_{w}" for w in pw - hw]))
        return out

    vec = CountVectorizer(binary=True, token_pattern=r"\S+")
    x_train = vec.fit_transform(features(full["train"]))
    stump = DecisionTreeClassifier(max_depth=1, random_state=0)
    stump.fit(x_train, column(full["train"], "label"))
    acc = stump.score(vec.transform(features(full["test"])), column(full["test"], "label"))
    assert acc < 0.5, f"one word predicts {acc:.2f} of labels; the task would be trivial"
