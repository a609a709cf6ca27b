"""Data that is not what it claims is refused when the task is read (issue 22, class 6).

Every file here is a TINY GENERATED FILE written into ``tmp_path`` (CSV, TSV, JSONL,
Parquet, an image folder with generated PNG / JPEG / GIF images, and hand-built PNG
headers that claim an enormous size). Each bad case is checked twice: through
``load_task_yaml(...).load_full()`` and through the real CLI, ``python -m benchmark tasks
show NAME`` in a fresh interpreter that finds the YAML task via ``BENCHMARK_TASKS_PATH``:
one line naming the file and the row (or every bad image) and the fix, exit code 2.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from benchmark.data.sources.local import MAX_IMAGE_PIXELS, SHOWN
from benchmark.data.task import label_counts
from benchmark.data.yaml_task import load_task_yaml
from benchmark.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _yaml(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\n" + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def _texts(n: int, labels: str = "ab") -> list[tuple[str, str]]:
    """``n`` generated (text, label) rows cycling through ``labels``."""
    return [(f"generated review number {i}", labels[i % len(labels)]) for i in range(n)]


def _png_header(path: Path, width: int, height: int) -> None:
    """A generated PNG whose header claims ``width x height`` (tiny on disk: no pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def _image_folder(root: Path, n: int = 4) -> None:
    """Generated valid images: ``root/<a|b>/<i>.png`` (plus a JPEG and a GIF per label)."""
    from PIL import Image

    for label in "ab":
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", (6, 5), (40 * i, 0, 0)).save(root / label / f"{i}.png")
        Image.new("RGB", (8, 8), (9, 9, 9)).save(root / label / "photo.jpg")
        Image.new("P", (3, 7)).save(root / label / "anim.gif")


# -- the bad cases: each writes its files and returns (task name, needles in the message) ----
def _csv_empty_text(d: Path) -> tuple[str, tuple[str, ...]]:
    rows = _texts(10)
    rows[2] = ("", "a")  # an empty cell: pandas reads it as "" (keep_default_na=False)
    rows[6] = ("   ", "b")  # blank: no text either
    pd.DataFrame(rows, columns=["review", "stars"]).to_csv(d / "reviews.csv", index=False)
    _yaml(d, "empty_csv", """
        kind: text
        format: csv
        file: reviews.csv
        columns: {text: review, label: stars}
        label_names: [a, b]
        """)
    return "empty_csv", ("reviews.csv", "column 'review' is empty", "row 3 (line 4)",
                         "row 7 (line 8)", "fill the cells or drop those rows")


def _tsv_empty_hypothesis(d: Path) -> tuple[str, tuple[str, ...]]:
    lines = ["sentence1\tsentence2\tlabel"]
    lines += [f"A man runs {i}.\tA person moves {i}.\t{lab}" for i, (_, lab) in enumerate(_texts(10))]
    lines[5] = "A man runs 4.\t\ta"  # the hypothesis is missing
    (d / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _yaml(d, "empty_tsv", """
        kind: text-pair
        format: tsv
        file: train.tsv
        columns: {premise: sentence1, hypothesis: sentence2}
        label_names: [a, b]
        """)
    return "empty_tsv", ("train.tsv", "column 'sentence2' is empty", "row 5 (line 6)")


def _jsonl_empty_text(d: Path) -> tuple[str, tuple[str, ...]]:
    records = [json.dumps({"text": t, "label": lab}) for t, lab in _texts(10)]
    records[3] = json.dumps({"text": "", "label": "b"})
    # a blank line before it: the message must give the file's line, not the row + 1
    (d / "data.jsonl").write_text("\n".join(records[:2] + [""] + records[2:]) + "\n")
    _yaml(d, "empty_jsonl", """
        kind: text
        format: jsonl
        file: data.jsonl
        label_names: [a, b]
        """)
    return "empty_jsonl", ("data.jsonl", "column 'text' is empty", "row 4 (line 5)")


def _parquet_list_column(d: Path) -> tuple[str, tuple[str, ...]]:
    frame = pd.DataFrame({"text": [[t, "more"] for t, _ in _texts(10)],
                          "label": [lab for _, lab in _texts(10)]})
    frame.to_parquet(d / "data.parquet")
    _yaml(d, "list_parquet", """
        kind: text
        format: parquet
        file: data.parquet
        label_names: [a, b]
        """)
    return "list_parquet", ("data.parquet", "column 'text' holds list values", "row 1",
                            f"and {10 - SHOWN} more", "store one string per cell")


def _bad_images(d: Path) -> tuple[str, tuple[str, ...]]:
    from PIL import Image

    _image_folder(d / "pets")
    (d / "pets" / "a" / "corrupt.png").write_bytes(b"these bytes are not an image")
    Image.new("RGB", (32, 32), (1, 2, 3)).save(d / "pets" / "b" / "cut.jpg")
    data = (d / "pets" / "b" / "cut.jpg").read_bytes()
    (d / "pets" / "b" / "cut.jpg").write_bytes(data[: len(data) // 2])  # truncated
    _png_header(d / "pets" / "b" / "huge.png", 10_000, 10_000)  # 100 megapixels
    _yaml(d, "bad_pets", """
        kind: image
        format: imagefolder
        file: pets
        label_names: [a, b]
        """)
    return "bad_pets", ("pets (train split): 3 of 15 image(s) cannot be used",
                        "a/corrupt.png: not an image file", "b/cut.jpg: unreadable",
                        "b/huge.png: 10000x10000 pixels", "replace them")


def _one_class(d: Path) -> tuple[str, tuple[str, ...]]:
    pd.DataFrame(_texts(12, "a"), columns=["text", "label"]).to_csv(d / "one.csv", index=False)
    _yaml(d, "one_class", """
        kind: text
        format: csv
        file: one.csv
        label_names: [a, b]
        """)
    return "one_class", ("task 'one_class'", "one_class.yaml", "every example has label 'a'",
                         "a classifier needs at least two classes", "['b']")


def _one_class_in_train(d: Path) -> tuple[str, tuple[str, ...]]:
    pd.DataFrame(_texts(12, "b"), columns=["text", "label"]).to_csv(d / "tr.csv", index=False)
    pd.DataFrame(_texts(6), columns=["text", "label"]).to_csv(d / "te.csv", index=False)
    _yaml(d, "one_class_train", """
        kind: text
        format: csv
        files: {train: tr.csv, test: te.csv}
        label_names: [a, b]
        """)
    return "one_class_train", ("every training example has label 'b'", "at least two classes")


def _too_small_to_carve(d: Path) -> tuple[str, tuple[str, ...]]:
    pd.DataFrame(_texts(10), columns=["text", "label"]).to_csv(d / "ten.csv", index=False)
    _yaml(d, "ten_rows", """
        kind: text
        format: csv
        file: ten.csv
        label_names: [a, b]
        """)
    return "ten_rows", ("task 'ten_rows'", "validation split carved from train (10% of each class) is empty",
                        "train has only 10 examples", "give the task its own validation file")


CASES: dict[str, Callable[[Path], tuple[str, tuple[str, ...]]]] = {
    "too_small_to_carve": _too_small_to_carve,
    "csv_empty_text": _csv_empty_text,
    "tsv_empty_hypothesis": _tsv_empty_hypothesis,
    "jsonl_empty_text": _jsonl_empty_text,
    "parquet_list_column": _parquet_list_column,
    "corrupt_truncated_and_enormous_images": _bad_images,
    "one_class_overall": _one_class,
    "one_class_in_train": _one_class_in_train,
}


def _assert_one_line(message: str, needles: tuple[str, ...]) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message, message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


@pytest.mark.parametrize("case", list(CASES))
def test_bad_data_is_refused_when_the_task_is_read(tmp_path: Path, case: str) -> None:
    name, needles = CASES[case](tmp_path)
    with pytest.raises(DataError) as err:
        load_task_yaml(tmp_path / f"{name}.yaml").load_full()
    _assert_one_line(str(err.value), needles)

    env = {**os.environ, "BENCHMARK_TASKS_PATH": str(tmp_path),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "benchmark", "tasks", "show", name], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, (out.returncode, out.stdout[-1000:], out.stderr[-2000:])
    error_lines = [ln for ln in out.stderr.splitlines() if ln.lower().startswith("error:")]
    assert len(error_lines) == 1, out.stderr[-2000:]
    _assert_one_line(error_lines[0], needles)


def test_many_bad_images_are_counted_and_the_first_few_named(tmp_path: Path) -> None:
    _image_folder(tmp_path / "pets")
    for i in range(SHOWN + 3):
        (tmp_path / "pets" / "a" / f"broken{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    spec = _yaml(tmp_path, "many_bad", "kind: image\nformat: imagefolder\nfile: pets\n"
                                       "label_names: [a, b]\n")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    _assert_one_line(str(err.value), (f"{SHOWN + 3} of {SHOWN + 3 + 12} image(s)",
                                      "a/broken0.png", "and 3 more"))


def test_valid_images_pass_the_check_and_a_bomb_is_judged_from_its_header(tmp_path: Path) -> None:
    _image_folder(tmp_path / "pets", n=8)
    spec = _yaml(tmp_path, "good_pets", "kind: image\nformat: imagefolder\nfile: pets\n"
                                        "label_names: [a, b]\n")
    full = load_task_yaml(spec).load_full()
    assert sum(sum(label_counts(full[s], ("a", "b")).values()) for s in full) == 20
    # just under the limit is accepted by the size rule (it is then only verified)
    side = int(MAX_IMAGE_PIXELS**0.5)
    _png_header(tmp_path / "pets" / "a" / "big.png", side, side)
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    assert "pixel limit" not in str(err.value) and "a/big.png: unreadable" in str(err.value)


def test_numbers_and_a_label_holding_a_list(tmp_path: Path) -> None:
    # numeric text cells are text (stringified on purpose); a list label is refused by row
    rows = [{"text": i, "label": "ab"[i % 2]} for i in range(20)]
    (tmp_path / "n.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    spec = _yaml(tmp_path, "numbers", "kind: text\nformat: jsonl\nfile: n.jsonl\n"
                                      "label_names: [a, b]\n")
    full = load_task_yaml(spec).load_full()
    assert all(t.isdigit() for s in full for t in full[s]["text"])
    rows[8]["label"] = ["a", "b"]
    (tmp_path / "n.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    _assert_one_line(str(err.value), ("column 'label' holds list values", "row 9 (line 9)"))


def test_an_image_broken_after_a_good_load_is_caught_on_the_next_read(tmp_path: Path) -> None:
    # good images are remembered by (path, size, mtime) so a reload does not reopen them; an
    # edited file must be checked again
    _image_folder(tmp_path / "pets", n=8)
    spec = _yaml(tmp_path, "pets_edit", "kind: image\nformat: imagefolder\nfile: pets\n"
                                        "label_names: [a, b]\n")
    load_task_yaml(spec).load_full()
    (tmp_path / "pets" / "b" / "3.png").write_bytes(b"overwritten by a failed download")
    with pytest.raises(DataError) as err:
        load_task_yaml(spec).load_full()
    _assert_one_line(str(err.value), ("1 of 20 image(s)", "b/3.png: not an image file"))


def test_a_label_without_training_examples_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pd.DataFrame(_texts(20), columns=["text", "label"]).to_csv(tmp_path / "d.csv", index=False)
    spec = _yaml(tmp_path, "three_labels", "kind: text\nformat: csv\nfile: d.csv\n"
                                           "label_names: [a, b, c]\n")
    with caplog.at_level("WARNING"):
        load_task_yaml(spec).load_full()
    assert "no training example has label(s) ['c']" in caplog.text


def test_list_tasks_says_bad_data_not_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmark.data import inspect

    _one_class(tmp_path)
    task = load_task_yaml(tmp_path / "one_class.yaml")
    monkeypatch.setattr(inspect, "task_names", lambda: ["one_class"])
    monkeypatch.setattr(inspect, "get_task", lambda name: task)
    (row,) = inspect.task_rows()
    assert str(row["status"]).startswith("bad data: task 'one_class'"), row
