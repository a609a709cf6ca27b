"""Reusable sources (benchmark.data.sources): the Hub path, the on-disk cache, readers, helpers.

The Hub code path (``datasets.load_dataset``) runs offline against LOCAL STAND-INS written
into ``tmp_path`` in the Hub's own format: Parquet files written by ``datasets`` (so
``ClassLabel`` names travel in the Parquet metadata) in the Hub's folder layout, with the
``README.md`` config block for multi-config data sets such as ``nyu-mll/glue``. Other data
here is tiny and generated (IDX bytes, a CSV), never a real data set.
"""

from __future__ import annotations

import gzip
import socket
from pathlib import Path

import datasets
import numpy as np
import pytest

from benchmark.data import sources
from benchmark.data.sources import (
    HubSource,
    OfflineSource,
    cached_dataset,
    image_dataset,
    match_labels,
    package_file,
    read_idx,
)
from benchmark.data.task import SPLITS, Task, column, label_counts
from benchmark.errors import DataError, SourceUnavailable

RTE_FEATURES = datasets.Features(
    {
        "sentence1": datasets.Value("string"),
        "sentence2": datasets.Value("string"),
        "label": datasets.ClassLabel(names=["entailment", "not_entailment"]),
        "idx": datasets.Value("int32"),
    }
)
GLUE_README = """\
---
configs:
- config_name: rte
  data_files:
  - split: train
    path: rte/train-*
  - split: validation
    path: rte/validation-*
  - split: test
    path: rte/test-*
---
# GLUE (local stand-in)
"""


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _rte_split(n: int, unlabelled: bool = False) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {
            "sentence1": [f"premise {i}" for i in range(n)],
            "sentence2": [f"hypothesis {i}" for i in range(n)],
            "label": [-1 if unlabelled else int(i % 3 == 0) for i in range(n)],
            "idx": list(range(n)),
        },
        features=RTE_FEATURES,
    )


@pytest.fixture()
def glue_standin(tmp_path: Path) -> Path:
    """``nyu-mll/glue`` layout: ``rte/<split>-00000-of-00001.parquet`` + README configs."""
    root = tmp_path / "glue"
    (root / "rte").mkdir(parents=True)
    _rte_split(60).to_parquet(root / "rte" / "train-00000-of-00001.parquet")
    _rte_split(15).to_parquet(root / "rte" / "validation-00000-of-00001.parquet")
    _rte_split(9, unlabelled=True).to_parquet(root / "rte" / "test-00000-of-00001.parquet")
    (root / "README.md").write_text(GLUE_README, encoding="utf-8")
    return root


def test_hub_source_through_a_local_glue_standin(glue_standin: Path, tmp_path: Path) -> None:
    # exactly the rte task's source, pointed at the stand-in instead of "nyu-mll/glue"
    source = HubSource(
        str(glue_standin),
        "rte",
        split_map={"train": "train", "validation": "test"},
        column_map={"sentence1": "premise", "sentence2": "hypothesis"},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    assert source.unavailable_reason() is None  # local folders are not blocked offline
    task = Task("rte_standin", "text-pair", ("entailment", "not_entailment"), (source,))
    full = task.load_full()
    assert [len(full[s]) for s in SPLITS] == [54, 6, 15]  # validation carved from train
    assert full["test"].column_names == ["id", "premise", "hypothesis", "label"]
    assert label_counts(full["test"], task.label_names) == {"entailment": 10, "not_entailment": 5}
    assert column(full["test"], "id")[0] == "validation-0"  # "<hub split>-<row>"
    assert (task.source_used or "").startswith("local folder")


def test_hub_source_drops_unlabelled_rows_and_maps_labels(
    glue_standin: Path, tmp_path: Path
) -> None:
    source = HubSource(
        str(glue_standin),
        "rte",
        column_map={"sentence1": "premise", "sentence2": "hypothesis", "idx": "id"},
        label_map={0: "yes", 1: "no"},
        cache_dir=str(tmp_path / "hf-cache"),
    )
    raw = source.load()
    assert len(raw["test"]) == 0  # GLUE's hidden test labels (-1) are dropped
    assert set(column(raw["train"], "label")) == {"yes", "no"}
    assert raw["train"].features["id"] == datasets.Value("string")


def test_hub_source_plain_folder_default_splits(tmp_path: Path) -> None:
    """A one-config data set (e.g. rotten_tomatoes): ``data/<split>-*.parquet`` under the root."""
    root = tmp_path / "rotten_tomatoes"
    (root / "data").mkdir(parents=True)
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
    )
    for split, n in (("train", 40), ("validation", 10), ("test", 10)):
        ds = datasets.Dataset.from_dict(
            {"text": [f"{split} review {i}" for i in range(n)], "label": [i % 2 for i in range(n)]},
            features=features,
        )
        ds.to_parquet(root / "data" / f"{split}-00000-of-00001.parquet")
    task = Task(
        "rt_standin",
        "text",
        ("rotten", "fresh"),
        (HubSource(str(root), cache_dir=str(tmp_path / "hf")),),
    )
    full = task.load_full()
    assert [len(full[s]) for s in SPLITS] == [40, 10, 10]  # official splits kept
    assert label_counts(full["test"], task.label_names) == {"rotten": 5, "fresh": 5}


def test_hub_source_errors_are_one_line(glue_standin: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "hf-cache")
    with pytest.raises(DataError, match=r"split\(s\) \['validation_matched'\] not found"):
        HubSource(
            str(glue_standin), "rte", split_map={"validation_matched": "test"}, cache_dir=cache
        ).load()
    with pytest.raises(DataError, match="column.*'sentence'.*fix column_map"):
        HubSource(str(glue_standin), "rte", column_map={"sentence": "text"}, cache_dir=cache).load()
    with pytest.raises(SourceUnavailable) as err:
        HubSource(str(glue_standin), "no_such_config", cache_dir=cache).load()
    assert "load_dataset" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError, match="split_map targets"):
        HubSource("x/y", split_map={"train": "dev"})
    missing = HubSource(str(tmp_path / "absent"))
    assert "not found" in (missing.unavailable_reason() or "")


def test_hub_id_offline_message(monkeypatch: pytest.MonkeyPatch) -> None:
    source = HubSource("nyu-mll/glue", "rte")
    assert source.description == "Hugging Face Hub nyu-mll/glue/rte"
    expected = (
        "Hugging Face Hub is offline (HF_DATASETS_OFFLINE=1); unset it on a machine with network"
    )
    assert source.unavailable_reason() == expected
    with pytest.raises(SourceUnavailable, match=r"HF_DATASETS_OFFLINE=1"):
        source.load()
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    assert "HF_HUB_OFFLINE=1" in (source.unavailable_reason() or "")


def test_hub_unreachable_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(sources.hub, "_PROBED", {})
    reason = HubSource("nyu-mll/glue", "rte").unavailable_reason()
    assert (
        reason is not None
        and "cannot reach 127.0.0.1" in reason
        and "HF_DATASETS_OFFLINE=1" in reason
    )


# -- the on-disk cache ------------------------------------------------------------------------
def test_offline_source_cache_builds_once_and_tracks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCHMARK_HOME", str(tmp_path / "home"))
    data = tmp_path / "pkg" / "data.csv"
    data.parent.mkdir()
    data.write_text("a\nb\nc\n", encoding="utf-8")
    builds: list[int] = []

    def read(files: list[Path]) -> datasets.DatasetDict:
        builds.append(1)
        lines = files[0].read_text(encoding="utf-8").split()
        ds = datasets.Dataset.from_dict({"text": lines, "label": ["x", "y", "x"][: len(lines)]})
        return datasets.DatasetDict({"train": ds})

    def locate() -> list[Path]:
        return [sources.existing_path(data, "run the setup")]

    source = OfflineSource("test (offline)", read, locate, cache="toy")
    assert column(source.load()["train"], "text").tolist() == ["a", "b", "c"]
    assert column(source.load()["train"], "text").tolist() == ["a", "b", "c"]
    assert len(builds) == 1  # second load came from the cache
    cache_root = tmp_path / "home" / "cache" / "tasks"
    entries = sorted(p.name for p in cache_root.iterdir())
    assert len(entries) == 1 and entries[0].startswith("toy-")  # no temp dirs left behind

    data.write_text("a\nb\n", encoding="utf-8")  # the source file changed: rebuild
    assert column(source.load()["train"], "text").tolist() == ["a", "b"]
    assert len(builds) == 2

    data.unlink()
    assert source.unavailable_reason() == f"{data} not found; run the setup"


def test_corrupt_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHMARK_HOME", str(tmp_path))
    calls: list[int] = []

    def build() -> datasets.DatasetDict:
        calls.append(1)
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"x": [1, 2]})})

    first = cached_dataset("c", ["k"], build)
    target = Path(first["train"].cache_files[0]["filename"]).parents[1]
    (target / "train" / "dataset_info.json").write_text("{not json", encoding="utf-8")
    again = cached_dataset("c", ["k"], build)
    assert len(calls) == 2 and column(again["train"], "x").tolist() == [1, 2]


# -- readers and helpers ----------------------------------------------------------------------
def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_read_idx_and_image_dataset(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 6, 4), dtype=np.uint8)
    labels = np.array([0, 1, 2, 1, 0], dtype=np.uint8)
    with gzip.open(tmp_path / "images-idx3-ubyte.gz", "wb") as fh:
        fh.write(_idx_bytes(images))
    (tmp_path / "labels-idx1-ubyte").write_bytes(_idx_bytes(labels))
    read_images = read_idx(tmp_path / "images-idx3-ubyte.gz")
    assert read_images.shape == (5, 6, 4) and np.array_equal(read_images, images)
    assert np.array_equal(read_idx(tmp_path / "labels-idx1-ubyte"), labels)

    ds = image_dataset(read_images, labels, ["a", "b", "c"], [f"i{k}" for k in range(5)])
    first = ds[0]["image"]
    assert first.mode == "L" and first.size == (4, 6)  # PIL size is (width, height)
    assert np.array_equal(np.asarray(first), images[0])  # PNG is lossless
    assert ds.features["label"].names == ["a", "b", "c"]

    (tmp_path / "short").write_bytes(_idx_bytes(images)[:-3])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(DataError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "text")


def test_match_labels_rules() -> None:
    names = ["entailment", "neutral", "contradiction"]
    got = match_labels(["entailment", "NEUTRAL", 2, "1", 0.0], names, "f")
    assert got.tolist() == [0, 1, 2, 1, 0]
    # a label name that looks like an integer matches by name first
    assert match_labels(["1", "2", 2], ["2", "1", "0"], "f").tolist() == [1, 0, 0]
    with pytest.raises(DataError, match=r"f: unknown label\(s\) \['', '3', 'maybe'\]"):
        match_labels(["maybe", 3, None], names, "f")


def test_package_file_messages() -> None:
    with pytest.raises(SourceUnavailable, match="'no_such_package_xyz' is not installed; pip it"):
        package_file("no_such_package_xyz", "data/x.csv", "pip it")
    with pytest.raises(SourceUnavailable, match="missing; reinstall"):
        package_file("benchmark", "no/such/file.csv", "reinstall")
    assert package_file("benchmark", "data/task.py", "x").is_file()


def test_one_line() -> None:
    assert sources.one_line(ValueError("\n  first line\nsecond")) == "first line"
    assert sources.one_line(ValueError("")) == "ValueError"
    assert len(sources.one_line(ValueError("x" * 1000))) == 300
