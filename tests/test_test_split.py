"""The test split cannot be reached while a method fits: ``fit`` runs in a process that never
received it (``benchmark/runs/fit_process.py``). An adversarial plug-in (``hunter_method.py``)
hunts through ``gc``, module globals, stack frames and any workspace's caches and trains on
what it finds. In the harness process it finds the test split and its score jumps (so the
hunt is real); fitting through the harness, ``validate`` included, it finds nothing and
scores exactly what ``target_only`` scores. Real data (digits) and real backbones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import torch

from benchmark.data.task import Budget
from benchmark.models.method import METHODS, FitContext, make_method
from benchmark.models.training import predict_logits
from benchmark.registry import load_module_from_file
from benchmark.runs.plan import RunFilters
from benchmark.runs.runner import run_suite
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import Workspace

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HUNTER = Path(__file__).with_name("hunter_method.py")


@pytest.fixture
def hunter() -> Iterator[ModuleType]:
    module = load_module_from_file(HUNTER)
    yield module
    METHODS.unregister("zz_hunter")


def _test_ids(task: str) -> set[str]:
    suite = get_suite("smoke")
    p = suite.protocols[suite.task(task).family]
    test = suite.task(task).load(seed=0, budget=Budget(p.train_budgets[0], p.validation_budget, p.test_budget))["test"]
    return {str(i) for i in test["id"]}


def _accuracy(ws: Workspace, model: torch.nn.Module, task: str, budget: int) -> float:
    test = ws.states(task, 0, "target", "test", "pretrained", budget)
    logits = predict_logits(model, test.states, ws.resolve(task).protocol.train, "cpu")
    return float((logits.argmax(1) == test.labels).float().mean())


def test_in_the_harness_process_the_hunter_finds_the_test_split_and_inflates_its_score(
        hunter: ModuleType, smoke_cache: Path) -> None:
    ws = Workspace(get_suite("smoke"), cache_dir=smoke_cache)
    rt = ws.resolve("digits")
    budget = rt.protocol.train_budgets[0]

    def context() -> FitContext:
        return FitContext(
            backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
            train=ws.states("digits", 0, "target", "train", "pretrained", budget),
            validation=ws.states("digits", 0, "target", "validation", "pretrained", budget),
            make_trunk=ws.trunk_factory(rt, "pretrained", 0), source=None,
            generator=torch.Generator().manual_seed(0))

    honest = _accuracy(ws, make_method("target_only").fit(context()), "digits", budget)
    assert _test_ids("digits") <= hunter.reachable_ids()  # the hunt reaches the test split here ...
    cheated = _accuracy(ws, make_method("zz_hunter").fit(context()), "digits", budget)
    assert cheated > honest + 0.05, (cheated, honest)  # ... and trains on it


def test_through_the_harness_the_hunter_finds_nothing_and_scores_what_target_only_scores(
        hunter: ModuleType, smoke_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "hunt.jsonl"
    monkeypatch.setenv("HUNT_REPORT", str(report))
    # Test states of an earlier command's run are in this process's memory too.
    run_suite("smoke", tmp_path / "before", RunFilters(tasks=["digits"], methods=["linear_probe"], seeds=[0]),
              cache_dir=smoke_cache)
    filters = RunFilters(tasks=["digits"], methods=["zz_hunter", "target_only"], seeds=[0])
    summary = run_suite("smoke", tmp_path / "results", filters, cache_dir=smoke_cache)
    assert summary.n_failed == 0
    (hunt,) = [json.loads(line) for line in report.read_text().splitlines()]
    assert hunt["foreign"] == 0 and hunt["ids"], hunt  # it found its own data, nothing else
    assert not set(hunt["ids"]) & _test_ids("digits")
    runs = tmp_path / "results/runs/smoke/digits"
    mine = pd.read_parquet(next((runs / "zz_hunter").rglob("predictions.parquet")))
    reference = pd.read_parquet(next((runs / "target_only").rglob("predictions.parquet")))
    pd.testing.assert_frame_equal(mine, reference)


def test_validate_runs_a_method_where_the_test_split_cannot_be_reached(smoke_cache: Path, tmp_path: Path) -> None:
    report = tmp_path / "hunt.jsonl"
    env = {**os.environ, "HUNT_REPORT": str(report), "BENCHMARK_CACHE_DIR": str(smoke_cache)}
    out = subprocess.run([sys.executable, "-m", "benchmark", "validate", str(HUNTER)], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok: zz_hunter" in out.stdout
    hunts = [json.loads(line) for line in report.read_text().splitlines()]
    targets = {t for t in get_suite("smoke").tasks}
    test_ids = set().union(*(_test_ids(t) for t in targets))
    assert len(hunts) >= 4  # every smoke target, twice (validate checks determinism)
    assert all(h["foreign"] == 0 and h["ids"] and not set(h["ids"]) & test_ids for h in hunts)


GONE = '''\
"""A plug-in method whose helper module disappears after it was loaded."""

from dataclasses import dataclass

import gone_helper

from benchmark.api import Classifier, FitContext, Method, register_method


@register_method("zz_gone")
@dataclass
class Gone(Method):
    """target_only, scaled by its helper."""

    def fit(self, ctx: FitContext) -> Classifier:
        return ctx.fit(ctx.new_classifier(), lr=ctx.config.lr * gone_helper.SCALE)
'''


def test_a_plug_in_file_that_no_longer_loads_fails_only_its_own_runs(
        tmp_path: Path, smoke_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fit process loads every plug-in file the harness loaded; one that cannot load there
    any more (its helper deleted) fails the runs of its method, with the reason, and no other."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "gone_helper.py").write_text("SCALE = 1.0\n")
    (folder / "gone_method.py").write_text(GONE)
    monkeypatch.syspath_prepend(str(folder))
    load_module_from_file(folder / "gone_method.py")
    try:
        (folder / "gone_helper.py").unlink()
        sys.modules.pop("gone_helper", None)
        summary = run_suite("smoke", tmp_path / "results", RunFilters(
            tasks=["digits"], methods=["linear_probe", "zz_gone"], seeds=[0]), cache_dir=smoke_cache)
    finally:
        METHODS.unregister("zz_gone")
    assert (summary.n_ok, summary.n_failed) == (1, 1), summary.line()
    (failure,) = summary.failed
    # it names this file, also when files earlier tests loaded no longer load either
    assert "zz_gone" in failure and "failed to load there" in failure and "gone_method.py" in failure
