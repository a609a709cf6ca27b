"""Bring-your-own data: tasks declared in YAML (benchmark.data.yaml_task, tasks/yaml_tasks.py).

All data here is TINY GENERATED FILES written into ``tmp_path`` in the real formats: GLUE
TSV (RTE's and MRPC's real headers, with GLUE's unbalanced quotes), SICK's tab-separated
layout, CSV, JSONL, Parquet and an image folder. They test the readers and the error
messages, not any data set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import pandas as pd
import pytest

from benchmark.data.task import SPLITS, TASKS, column, label_counts
from benchmark.data.yaml_task import load_task_yaml
from benchmark.errors import DataError, SourceUnavailable

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _glue_rte(folder: Path, n_train: dict[str, int], n_dev: dict[str, int]) -> None:
    """GLUE RTE layout: ``index<TAB>sentence1<TAB>sentence2<TAB>label`` with string labels."""
    for name, counts in (("train.tsv", n_train), ("dev.tsv", n_dev)):
        rows = ["index\tsentence1\tsentence2\tlabel"]
        i = 0
        for label, n in counts.items():
            for _ in range(n):
                # GLUE text has unbalanced quotes and commas: read with csv.QUOTE_NONE
                rows.append(f'{i}\tThe "big dog, number {i} ran.\tA dog ran {i}.\t{label}')
                i += 1
        _write(folder / name, "\n".join(rows) + "\n")


def _sick(path: Path, counts: dict[str, int]) -> None:
    """SICK layout: pair_ID, sentence_A, sentence_B, relatedness_score, entailment_judgment."""
    rows = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
    i = 0
    for label, n in counts.items():
        for _ in range(n):
            rows.append(f"{i + 1}\tA man is playing guitar {i}\tA person plays {i}\t3.5\t{label}")
            i += 1
    _write(path, "\n".join(rows) + "\n")


def _totals(task_full: datasets.DatasetDict, label_names: tuple[str, ...]) -> dict[str, int]:
    out = dict.fromkeys(label_names, 0)
    for split in SPLITS:
        for k, v in label_counts(task_full[split], label_names).items():
            out[k] += v
    return out


# -- formats that must load -----------------------------------------------------------------
def test_glue_tsv_folder_loads_with_label_counts(tmp_path: Path) -> None:
    _glue_rte(
        tmp_path / "RTE",
        {"entailment": 18, "not_entailment": 12},
        {"entailment": 6, "not_entailment": 4},
    )
    spec = _write(
        tmp_path / "rte.yaml",
        """
        name: my_rte
        kind: text-pair
        format: tsv
        files: {train: RTE/train.tsv, test: RTE/dev.tsv}
        columns: {premise: sentence1, hypothesis: sentence2, id: index}
        label_names: [entailment, not_entailment]
        """,
    )
    task = load_task_yaml(spec)
    full = task.load_full()
    assert label_counts(full["test"], task.label_names) == {"entailment": 6, "not_entailment": 4}
    train_val = {
        k: v + label_counts(full["validation"], task.label_names)[k]
        for k, v in label_counts(full["train"], task.label_names).items()
    }
    assert train_val == {"entailment": 18, "not_entailment": 12}
    assert full["train"].column_names == ["id", "premise", "hypothesis", "label"]
    assert any('"big dog, number' in p for p in column(full["train"], "premise"))
    assert "not_entailment" in task.label_names and task.description


def test_glue_mrpc_integer_labels_map_by_position(tmp_path: Path) -> None:
    rows = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
    rows += [f'{i % 2}\t{100 + i}\t{200 + i}\tHe said "yes {i}.\tHe agreed {i}.' for i in range(20)]
    _write(tmp_path / "MRPC" / "msr_paraphrase_train.txt", "\n".join(rows) + "\n")
    spec = _write(
        tmp_path / "mrpc.yaml",
        """
        name: my_mrpc
        kind: text-pair
        format: tsv
        file: MRPC/msr_paraphrase_train.txt
        split: {validation: 0.2, test: 0.2, seed: 3}
        columns: {premise: "#1 String", hypothesis: "#2 String", label: Quality}
        label_names: [not_equivalent, equivalent]
        """,
    )
    task = load_task_yaml(spec)
    assert _totals(task.load_full(), task.label_names) == {"not_equivalent": 10, "equivalent": 10}


def test_sick_file_loads_with_label_counts_and_split_rule(tmp_path: Path) -> None:
    counts = {"NEUTRAL": 50, "ENTAILMENT": 30, "CONTRADICTION": 20}
    _sick(tmp_path / "SICK_train.txt", counts)
    spec = _write(
        tmp_path / "sick.yaml",
        """
        name: sick
        kind: text-pair
        format: tsv
        file: SICK_train.txt
        split: {validation: 0.1, test: 0.2, seed: 0}
        columns: {premise: sentence_A, hypothesis: sentence_B, label: entailment_judgment}
        label_names: [entailment, neutral, contradiction]
        """,
    )
    task = load_task_yaml(spec)
    full = task.load_full()
    assert _totals(full, task.label_names) == {"entailment": 30, "neutral": 50, "contradiction": 20}
    assert [len(full[s]) for s in SPLITS] == [72, 8, 20]  # stratified 20% test, then 10% val
    again = load_task_yaml(spec).load_full()
    assert column(again["test"], "id").tolist() == column(full["test"], "id").tolist()


def test_csv_jsonl_parquet_and_imagefolder(tmp_path: Path) -> None:
    reviews = pd.DataFrame(
        {"review": [f"film {i}, not bad" for i in range(40)], "stars": ["pos", "neg"] * 20}
    )
    reviews.to_csv(tmp_path / "reviews.csv", index=False)
    with open(tmp_path / "reviews.jsonl", "w", encoding="utf-8") as fh:
        for r in reviews.to_dict("records"):
            fh.write(json.dumps(r) + "\n")
    reviews.assign(stars=[0, 1] * 20).to_parquet(tmp_path / "reviews.parquet")
    for fmt in ("csv", "jsonl", "parquet"):
        spec = _write(
            tmp_path / f"{fmt}.yaml",
            f"""
            name: reviews_{fmt}
            kind: text
            format: {fmt}
            file: reviews.{fmt}
            columns: {{text: review, label: stars}}
            label_names: [neg, pos]
            """,
        )
        task = load_task_yaml(spec)
        full = task.load_full()
        assert _totals(full, task.label_names) == {"neg": 20, "pos": 20}, fmt
        assert full["train"].column_names == ["id", "text", "label"]

    from PIL import Image

    for split, n in (("train", 6), ("test", 2)):
        for label in ("cat", "dog"):
            folder = tmp_path / "pets" / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (4, 4), (i * 30, 0, 0)).save(folder / f"{i}.png")
    spec = _write(
        tmp_path / "pets.yaml",
        """
        name: pets
        kind: image
        format: imagefolder
        files: {train: pets/train, test: pets/test}
        label_names: [cat, dog]
        """,
    )
    task = load_task_yaml(spec)
    full = task.load_full()
    assert label_counts(full["test"], task.label_names) == {"cat": 2, "dog": 2}
    assert full["train"][0]["image"].size == (4, 4)
    assert column(full["test"], "id")[0] == "test/cat/0.png"


# -- malformed declarations and files: one-line errors that name the fix ----------------------
def _rte_yaml(tmp_path: Path, **overrides: str) -> Path:
    fields = {
        "name": "my_rte",
        "kind": "text-pair",
        "format": "tsv",
        "files": "{train: RTE/train.tsv, validation: RTE/dev.tsv}",
        "columns": "{premise: sentence1, hypothesis: sentence2}",
        "label_names": "[entailment, not_entailment]",
    }
    fields.update(overrides)
    text = "\n".join(f"{k}: {v}" for k, v in fields.items() if v != "") + "\n"
    return _write(tmp_path / "task.yaml", text)


def _one_line_error(exc_info: pytest.ExceptionInfo[BaseException], *needles: str) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and "Traceback" not in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def test_missing_column(tmp_path: Path) -> None:
    _glue_rte(
        tmp_path / "RTE",
        {"entailment": 3, "not_entailment": 3},
        {"entailment": 2, "not_entailment": 2},
    )
    task = load_task_yaml(
        _rte_yaml(tmp_path, columns="{premise: sentence_1, hypothesis: sentence2}")
    )
    with pytest.raises(DataError) as err:
        task.load_full()
    _one_line_error(err, "sentence_1", "train.tsv", "columns")


def test_unknown_label(tmp_path: Path) -> None:
    _glue_rte(
        tmp_path / "RTE", {"entailment": 3, "maybe": 2}, {"entailment": 2, "not_entailment": 2}
    )
    task = load_task_yaml(_rte_yaml(tmp_path))
    with pytest.raises(DataError) as err:
        task.load_full()
    _one_line_error(err, "unknown label", "'maybe'", "entailment")


def test_empty_split(tmp_path: Path) -> None:
    _glue_rte(tmp_path / "RTE", {"entailment": 3, "not_entailment": 3}, {})
    task = load_task_yaml(_rte_yaml(tmp_path))
    with pytest.raises(DataError) as err:
        task.load_full()
    _one_line_error(err, "dev.tsv", "no rows")


def test_unknown_yaml_key_suggests_the_right_one(tmp_path: Path) -> None:
    spec = _rte_yaml(tmp_path, columns="", colums="{premise: sentence1, hypothesis: sentence2}")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec)
    _one_line_error(err, "unknown key 'colums'", "Did you mean 'columns'?")


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        ({"label_names": ""}, ("missing required key 'label_names'",)),
        ({"kind": "text_pair"}, ("kind 'text_pair'", "Did you mean 'text-pair'?")),
        ({"format": "tsvv"}, ("format 'tsvv'", "Did you mean 'tsv'?")),
        ({"files": "{train: a.tsv, dev: b.tsv}"}, ("unknown key 'dev'", "validation")),
        ({"columns": "{premis: sentence1}"}, ("unknown key 'premis'", "Did you mean 'premise'?")),
        ({"label_names": "[yes]"}, ("at least two",)),
        ({"file": "x.tsv"}, ("exactly one of 'files'",)),
        ({"split": "{test: 1.5}"}, ("split.test",)),
    ],
)
def test_bad_declarations(
    tmp_path: Path, overrides: dict[str, str], needles: tuple[str, ...]
) -> None:
    with pytest.raises(DataError) as err:
        load_task_yaml(_rte_yaml(tmp_path, **overrides))
    _one_line_error(err, *needles)


def test_bad_yaml_syntax(tmp_path: Path) -> None:
    spec = _write(tmp_path / "broken.yaml", "name: x\nkind: [text\nformat: csv\n")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec)
    _one_line_error(err, "not valid YAML", "line")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_bytes(b"this is not parquet")
    spec = _write(
        tmp_path / "p.yaml",
        """
        name: broken_parquet
        kind: text
        format: parquet
        file: data.parquet
        label_names: [a, b]
        """,
    )
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    _one_line_error(err, "cannot read", "data.parquet")

    _write(tmp_path / "bad.tsv", "sentence1\tsentence2\tlabel\na\tb\tentailment\nc\td\te\tf\tg\n")
    spec = _rte_yaml(tmp_path, files="{train: bad.tsv}")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    _one_line_error(err, "cannot read", "bad.tsv")

    task = load_task_yaml(_rte_yaml(tmp_path, files="{train: nowhere/train.tsv}"))
    assert not task.available
    with pytest.raises(SourceUnavailable) as unavailable:
        task.load_full()
    _one_line_error(unavailable, "nowhere/train.tsv", "not found")


# -- registration from tasks/*.yaml and BENCHMARK_TASKS_PATH ----------------------------------
def test_register_yaml_tasks_skips_bad_files(tmp_path: Path) -> None:
    from benchmark.tasks import yaml_tasks

    _sick(tmp_path / "SICK.txt", {"ENTAILMENT": 10, "NEUTRAL": 10, "CONTRADICTION": 10})
    _write(
        tmp_path / "sick_tiny.yaml",
        """
        name: sick_tiny_test
        kind: text-pair
        format: tsv
        file: SICK.txt
        columns: {premise: sentence_A, hypothesis: sentence_B, label: entailment_judgment}
        label_names: [entailment, neutral, contradiction]
        """,
    )
    _write(tmp_path / "broken.yaml", "name: [unclosed\n")
    _write(
        tmp_path / "clash.yml",
        "name: spam\nkind: text\nformat: csv\nfile: x.csv\nlabel_names: [a, b]\n",
    )
    try:
        names = yaml_tasks.register_yaml_tasks(yaml_tasks.yaml_task_files([tmp_path]))
        assert names == ["sick_tiny_test"]
        assert "sick_tiny_test" in TASKS
        assert TASKS.origin("spam").endswith("spam.spam")  # the Python task keeps its name
    finally:
        TASKS.unregister("sick_tiny_test")


def test_benchmark_tasks_path_registers_yaml_tasks(tmp_path: Path) -> None:
    """End to end in a fresh interpreter: the registry picks the folder up by itself."""
    _sick(tmp_path / "SICK.txt", {"ENTAILMENT": 10, "NEUTRAL": 10, "CONTRADICTION": 10})
    _write(
        tmp_path / "sick.yaml",
        """
        name: sick_from_env
        kind: text-pair
        format: tsv
        file: SICK.txt
        columns: {premise: sentence_A, hypothesis: sentence_B, label: entailment_judgment}
        label_names: [entailment, neutral, contradiction]
        """,
    )
    env = {
        **os.environ,
        "BENCHMARK_TASKS_PATH": f"{tmp_path}{os.pathsep}{tmp_path / 'absent'}",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    code = (
        "from benchmark.data.task import get_task, task_names\n"
        "assert 'sick_from_env' in task_names() and 'rotten_tomatoes' in task_names()\n"
        "full = get_task('sick_from_env').load_full()\n"
        "print(sum(len(full[s]) for s in full))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "30"
