"""Bad input catalogue (README "Reliability"): each case gets one line naming the problem and
the fix, a documented exit code, and leaves earlier results intact.

Data files here are TINY GENERATED FILES in real formats (nothing real has these defects);
methods are real, deliberately broken plug-ins run on the real smoke data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
import torch

from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method
from benchmark.data.yaml_task import load_task_yaml
from benchmark.errors import DataError
from benchmark.faults import ENV_VAR
from benchmark.models.backbones import get_backbone
from benchmark.models.method import METHODS
from benchmark.runs.plan import RunFilters
from benchmark.runs.runner import run_suite
from benchmark.runs.store import scan_runs

REPO = Path(__file__).resolve().parents[1]


def _one_line(message: str, *needles: str) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)


def _csv_task(tmp_path: Path, frame: pd.DataFrame | bytes, columns: str = "{text: review, label: stars}") -> Path:
    data = tmp_path / "reviews.csv"
    if isinstance(frame, bytes):
        data.write_bytes(frame)
    else:
        frame.to_csv(data, index=False)
    spec = tmp_path / "reviews.yaml"
    spec.write_text(f"name: reviews\nkind: text\nformat: csv\nfile: reviews.csv\ncolumns: {columns}\n"
                    "label_names: [neg, pos]\n", encoding="utf-8")
    return spec


def test_duplicate_ids_in_a_task_file(tmp_path: Path) -> None:
    frame = pd.DataFrame({"key": ["a", "b", "a", "c"] * 5, "review": ["fine"] * 20, "stars": ["pos", "neg"] * 10})
    task = load_task_yaml(_csv_task(tmp_path, frame, "{text: review, label: stars, id: key}"))
    with pytest.raises(DataError) as err:
        task.load_full()
    _one_line(str(err.value), "id 'a' appears twice (rows 0 and 2", "ids must be unique")


def test_non_utf8_text(tmp_path: Path) -> None:
    rows = "review,stars\n" + "".join(f"caf\xe9 {i},{'pos' if i % 2 else 'neg'}\n" for i in range(20))
    task = load_task_yaml(_csv_task(tmp_path, rows.encode("latin-1")))
    with pytest.raises(DataError) as err:
        task.load_full()
    _one_line(str(err.value), "is not UTF-8 text", "save it as UTF-8")


def test_images_of_mixed_sizes_and_modes_are_converted(tmp_path: Path) -> None:
    # Accepted by design: every image is converted to RGB and resized to the backbone's input.
    from PIL import Image

    images = [Image.new("L", (28, 28), 7), Image.new("RGBA", (40, 31), (1, 2, 3, 4)),
              Image.new("RGB", (224, 224), (9, 9, 9)), Image.new("P", (5, 90))]
    backbone: Any = get_backbone("efficientnet-lite0")
    pixels = backbone.pixels(datasets.Dataset.from_dict({"image": images}))
    size = backbone.image_size
    assert pixels.shape == (4, 3, size, size) and torch.isfinite(pixels).all()


# -- broken methods: the run is recorded as failed, the rest of the grid runs -----------------
@dataclass
class _Base(Method):
    def fit(self, ctx: FitContext) -> Classifier:
        model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        ctx.record(fit(model, ctx.train, ctx.validation, ctx.config, ctx.generator, max_epochs=1))
        return model


@dataclass
class ReturnsWrongType(_Base):
    def fit(self, ctx: FitContext) -> Classifier:
        return {"weights": 1}  # type: ignore[return-value]


@dataclass
class WrongShapedLogits(_Base):
    def fit(self, ctx: FitContext) -> Classifier:
        model = super().fit(ctx)
        model.head = torch.nn.Linear(ctx.backbone.feature_dim, ctx.num_labels + 3)
        return model


@dataclass
class NaNLoss(_Base):
    def fit(self, ctx: FitContext) -> Classifier:
        model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        fit(model, ctx.train, ctx.validation, ctx.config, ctx.generator,
            extra_loss=lambda f, logits, idx: logits.sum() * float("nan"))
        return model


@dataclass
class PredictsNaN(_Base):
    def fit(self, ctx: FitContext) -> Classifier:
        model = super().fit(ctx)
        with torch.no_grad():
            model.head.bias.fill_(float("nan"))
        return model


BROKEN = {"test_wrong_type": (ReturnsWrongType, "returned dict; return a Classifier"),
          "test_wrong_logits": (WrongShapedLogits, "logits of shape (96, 13)"),
          "test_nan_loss": (NaNLoss, "non-finite loss"),
          "test_nan_logits": (PredictsNaN, "non-finite logits")}


@pytest.fixture
def broken_methods() -> Iterator[None]:
    for name, (cls, _) in BROKEN.items():
        register_method(name)(cls)
    yield
    for name in BROKEN:
        METHODS.unregister(name)


@pytest.mark.usefixtures("broken_methods")
def test_broken_methods_fail_their_own_runs_only(smoke_cache: Path, tmp_path: Path) -> None:
    filters = RunFilters(tasks=["digits"], methods=["target_only", *BROKEN], seeds=[0])
    summary = run_suite("smoke", tmp_path, filters, cache_dir=smoke_cache)
    assert summary.n_ok == 1 and summary.n_failed == len(BROKEN)
    records = {r.run.method: r for r in scan_runs(tmp_path, "smoke", include_planned=False)}
    assert records["target_only"].status == "ok"
    for name, (_, needle) in BROKEN.items():
        assert records[name].status == "failed"
        _one_line(records[name].manifest.error, needle)
        assert not records[name].predictions_path.exists()


# -- the command line: exit codes and what stays on disk ---------------------------------------
def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=REPO, env=full,
                          capture_output=True, text=True)


def test_a_results_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")  # root may write anywhere: a file in the path blocks it
    out = _cli("run", "--suite", "smoke", "--tasks", "digits", "--seeds", "0", "--results", str(tmp_path / "a_file/r"))
    assert out.returncode == 2
    _one_line(out.stderr, "cannot write to results folder", "make it writable or pass another --results")


def test_a_full_disk_stops_the_command_and_keeps_what_was_finished(tmp_path: Path, smoke_cache: Path) -> None:
    results = tmp_path / "results"
    args = ("run", "--suite", "smoke", "--tasks", "digits", "--methods", "target_only,linear_probe",
            "--seeds", "0", "--results", str(results))
    # The 5th atomic write is the second run's run.json (plan, predictions, run.json, predictions, run.json).
    full = _cli(*args, BENCHMARK_CACHE_DIR=str(smoke_cache), **{ENV_VAR: "atomic_write.before_replace=enospc#5"})
    assert full.returncode == 4, full.stderr
    _one_line(full.stderr.strip().splitlines()[-1], "No space left on device", "rerun the same command")
    kept = [r for r in scan_runs(results, "smoke", include_planned=False) if r.status == "ok"]
    assert len(kept) == 1  # the first run, whole
    assert json.loads((kept[0].path / "run.json").read_text())["status"] == "ok"
    again = _cli(*args, BENCHMARK_CACHE_DIR=str(smoke_cache))
    assert again.returncode == 0, again.stderr
    assert "1 ran, 1 already done" in again.stdout
