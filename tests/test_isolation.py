"""A method cannot change what later runs see: it gets copies of its inputs (pickled into the
fit process), so a plug-in that edits them in place (labels, stem states) spoils only its own
run. Real data (digits), real backbone, the smoke protocol, the way ``run`` executes a grid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from benchmark.cli import main
from benchmark.models import training
from benchmark.models.method import METHODS, FitContext, Method, register_method
from benchmark.models.training import Classifier
from benchmark.runs.store import scan_runs

pytestmark = pytest.mark.slow


@dataclass
class Vandal(Method):
    """Overwrites every input it is given (labels and stem states), then fits. At module level:
    the fit process imports it by name."""

    def fit(self, ctx: FitContext) -> Classifier:
        for split in (ctx.train, ctx.validation):
            split.labels.zero_()
            split.states.data.zero_()
        return ctx.fit(ctx.new_classifier())


@pytest.fixture
def vandal() -> Iterator[str]:
    register_method("zz_vandal")(Vandal)
    yield "zz_vandal"
    METHODS.unregister("zz_vandal")


@pytest.fixture(autouse=True)
def _session_cache(smoke_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))


def _cli(results: Path, methods: str) -> int:
    """``run`` through the command line's entry point, in this process (where the test's
    plug-in methods are registered); exit 0 only when no run failed."""
    return main(["run", "--suite", "smoke", "--tasks", "digits", "--methods", methods, "--seeds", "0",
                 "--results", str(results)])


def _accuracy(results: Path, method: str) -> float:
    (record,) = [r for r in scan_runs(results, "smoke") if r.method == method]
    assert record.status == "ok" and record.manifest is not None and record.manifest.accuracy is not None
    return record.manifest.accuracy


def test_a_method_that_edits_its_inputs_spoils_only_its_own_run(vandal: str, tmp_path: Path,
                                                                 smoke_cache: Path) -> None:
    # The vandal runs first (methods run in the order given), then linear_probe on the same
    # in-memory states of the same workspace.
    assert _cli(tmp_path / "shared", f"{vandal},linear_probe") == 0
    assert _cli(tmp_path / "alone", "linear_probe") == 0
    assert _accuracy(tmp_path / "shared", vandal) < 0.2  # it trained on one label: near chance (10 classes)
    assert _accuracy(tmp_path / "shared", "linear_probe") == _accuracy(tmp_path / "alone", "linear_probe") > 0.5


@dataclass
class Saboteur(Method):
    """Changes the fit process for whoever fits next: torch's default dtype and the shared
    head initialiser (a monkeypatch that zeroes every later head), then fits honestly."""

    def fit(self, ctx: FitContext) -> Classifier:
        model = ctx.fit(ctx.new_classifier())
        torch.set_default_dtype(torch.float64)
        original = training.new_head

        def zero_head(*args: Any, **kwargs: Any) -> torch.nn.Linear:
            head = original(*args, **kwargs)
            torch.nn.init.zeros_(head.weight)
            return head

        training.new_head = zero_head  # type: ignore[assignment]
        return model


@pytest.fixture
def saboteur() -> Iterator[str]:
    register_method("zz_saboteur")(Saboteur)
    yield "zz_saboteur"
    METHODS.unregister("zz_saboteur")


def test_a_method_that_changes_the_fit_process_does_not_change_later_runs(
        saboteur: str, tmp_path: Path, smoke_cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert _cli(tmp_path / "shared", f"{saboteur},linear_probe") == 0
    assert _cli(tmp_path / "alone", "linear_probe") == 0
    assert "Saboteur changed" in caplog.text and "the next fit starts in a new one" in caplog.text

    def predictions(results: Path) -> pd.DataFrame:
        return pd.read_parquet(next((results / "runs/smoke/digits/linear_probe").rglob("predictions.parquet")))

    pd.testing.assert_frame_equal(predictions(tmp_path / "shared"), predictions(tmp_path / "alone"))
