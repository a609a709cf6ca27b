"""Running suites on the real smoke suite: real tasks, real backbones, real training."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from benchmark.analysis.leaderboard import compute_leaderboards
from benchmark.analysis.stats.sequential import sequential_weights
from benchmark.models.method import METHODS, FitContext, Method, make_method, register_method
from benchmark.models.training import Classifier
from benchmark.pipeline.sequential import run_until_decided
from benchmark.runs.execute import RunJob, RunOutcome, execute_run
from benchmark.runs.executor import LocalExecutor, OnResult, WorkspaceSpec, train_fits
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import run_suite
from benchmark.runs.store import RunStore, scan_runs
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob

REPO = Path(__file__).resolve().parents[1]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_smoke_suite_runs_every_method_and_kind(smoke_results: Path) -> None:
    specs = plan_runs(get_suite("smoke"), RunFilters())
    kinds = set()
    for spec in specs:
        folder = RunStore(smoke_results).run_dir(spec)
        record = json.loads((folder / "run.json").read_text())
        assert record["status"] == "ok", record["error"]
        kinds.add(record["task_kind"])
        preds = pd.read_parquet(folder / "predictions.parquet")
        assert list(preds.columns) == ["id", "label", "prediction", "correct", "probabilities"]
        assert len(preds) == record["n_test"] > 0
        assert (preds["correct"] == (preds["label"] == preds["prediction"])).all()
    assert kinds == {"text", "text-pair", "image"}
    assert (
        set(METHODS.names())
        >= {s.method for s in specs}
        >= {"target_only", "scratch", "linear_probe", "finetune", "distill", "hybrid"}
    )
    assert (smoke_results / "leaderboards" / "per_task.csv").exists()
    assert (smoke_results / "leaderboards" / "transfer_matrix.csv").exists()
    assert (smoke_results / "report" / "index.html").exists()


def test_test_split_is_the_same_for_every_method_and_seed(smoke_results: Path) -> None:
    ids = {
        tuple(pd.read_parquet(p)["id"])
        for p in (smoke_results / "runs" / "smoke" / "digits").rglob("predictions.parquet")
    }
    assert len(ids) == 1


def test_second_run_skips_everything_and_changes_no_file(
    smoke_results: Path, smoke_cache: Path
) -> None:
    before = _files(smoke_results / "runs")
    summary = run_suite("smoke", smoke_results, cache_dir=smoke_cache)
    assert summary.n_ok == 0 and summary.n_failed == 0
    assert summary.n_skipped == summary.n_planned > 0
    assert _files(smoke_results / "runs") == before


def test_same_seed_same_predictions_bit_for_bit(
    smoke_results: Path, smoke_cache: Path, tmp_path: Path
) -> None:
    filters = RunFilters(tasks=["digits", "debates"], methods=["target_only", "distill"], seeds=[1])
    summary = run_suite("smoke", tmp_path, filters, cache_dir=smoke_cache)
    assert summary.n_ok > 0 and summary.n_failed == 0
    for spec in plan_runs(get_suite("smoke"), filters):
        again = (RunStore(tmp_path).run_dir(spec) / "predictions.parquet").read_bytes()
        first = (RunStore(smoke_results).run_dir(spec) / "predictions.parquet").read_bytes()
        assert again == first, spec.label()


class ReverseExecutor:
    """A stand-in executor written for this test: a fresh workspace of its own, the source models
    first, then the runs in reverse order, results collected before any is handed back."""

    def __init__(self) -> None:
        self.order: list[RunJob] = []

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        ws = workspace.build()
        train_fits(ws, list(reversed(fits)))
        outcomes: list[tuple[RunJob, RunOutcome]] = []
        for job in reversed(runs):
            self.order.append(job)
            outcomes.append((job, execute_run(ws, job)))
        for job, outcome in outcomes:
            on_result(job, outcome)


def test_any_executor_gives_the_local_executors_predictions(
    smoke_results: Path, smoke_cache: Path, tmp_path: Path
) -> None:
    executor = ReverseExecutor()
    summary = run_suite("smoke", tmp_path, cache_dir=smoke_cache, executor=executor)
    assert summary.n_failed == 0 and summary.n_ok == summary.n_planned > 0
    planned = plan_runs(get_suite("smoke"), RunFilters())
    assert [job.run for job in executor.order] == planned[::-1]
    assert any(job.needs for job in executor.order)  # shared fits are explicit dependencies
    for spec in planned:
        mine = pd.read_parquet(RunStore(tmp_path).run_dir(spec) / "predictions.parquet")
        local = pd.read_parquet(RunStore(smoke_results).run_dir(spec) / "predictions.parquet")
        assert mine.equals(local), spec.label()


@dataclass
class Explodes(Method):
    """A method that always raises inside fit (for the failure-isolation test)."""

    def fit(self, ctx: FitContext) -> Classifier:
        raise RuntimeError("boom inside fit")


@pytest.fixture
def explodes() -> Iterator[None]:
    register_method("test_explodes")(Explodes)
    yield
    METHODS.unregister("test_explodes")


@pytest.mark.usefixtures("explodes")
def test_a_crashing_method_fails_only_its_own_runs(smoke_cache: Path, tmp_path: Path) -> None:
    filters = RunFilters(tasks=["digits"], methods=["test_explodes", "target_only"], seeds=[0])
    summary = run_suite("smoke", tmp_path, filters, cache_dir=smoke_cache)
    assert summary.n_failed == 1 and summary.n_ok == 1
    bad = json.loads((tmp_path / "runs/smoke/digits/test_explodes/-/budget=96/seed=0/run.json").read_text())
    assert bad["status"] == "failed" and "boom inside fit" in bad["error"]
    assert "RuntimeError" in bad["traceback"]
    assert not (tmp_path / "runs/smoke/digits/test_explodes/-/seed=0/predictions.parquet").exists()
    good = json.loads((tmp_path / "runs/smoke/digits/target_only/-/budget=96/seed=0/run.json").read_text())
    assert good["status"] == "ok"
    assert "failed" in summary.line()


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmark", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_midway_then_rerun_gives_the_uninterrupted_results(
    smoke_cache: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "BENCHMARK_HOME": str(smoke_cache.parent / "home")}
    args = ["run", "--suite", "smoke", "--tasks", "digits,mnist", "--seeds", "0"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = _cli(*args, "--results", str(killed), env=env)
    deadline = time.time() + 240
    while time.time() < deadline and len(list(killed.rglob("run.json"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = len(list(killed.rglob("run.json")))
    assert (
        3
        <= n_done
        < len(plan_runs(get_suite("smoke"), RunFilters(tasks=["digits", "mnist"], seeds=[0])))
    )
    assert _cli(*args, "--results", str(killed), env=env).wait() == 0
    assert _cli(*args, "--results", str(clean), env=env).wait() == 0
    for run_json in (clean / "runs").rglob("run.json"):
        rel = run_json.parent.relative_to(clean)
        assert pd.read_parquet(killed / rel / "predictions.parquet").equals(
            pd.read_parquet(clean / rel / "predictions.parquet")
        ), rel


def test_unknown_names_are_one_line_errors_with_did_you_mean() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "run", "--methods", "distil"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "did you mean 'distill'" in out.stderr.lower()
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "run", "--hp", "distill.wieght=2"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "did you mean 'weight'" in out.stderr.lower()


@pytest.mark.parametrize("what", ["methods", "suites"])
def test_list_commands(what: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "list", what], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for name in (
        ["target_only", "finetune", "distill", "hybrid"]
        if what == "methods"
        else ["smoke", "default", "full"]
    ):
        assert name in out.stdout


class InterruptingExecutor(LocalExecutor):
    """Stands in for a killed driver: raises KeyboardInterrupt after ``after`` stored runs."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.left = after

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        def counting(job: RunJob, outcome: RunOutcome) -> None:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
            on_result(job, outcome)

        super().execute(workspace, fits, runs, counting)


def _undecided_at(results: Path, seeds: set[int]) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """Pairs inconclusive on ``seeds``: those some seed count up to 6 is projected to decide,
    and the hopeless ones (futility)."""
    records = [r for r in scan_runs(results, "smoke", include_planned=False) if r.seed in seeds]
    design = sequential_weights(2, 6)
    tm = compute_leaderboards(records, n_resamples=1, designs={"smoke": design}).transfer_matrix
    rows = tm[(tm["verdict"] == "inconclusive") & (tm["n_seeds"] == len(seeds))]
    hopeless = rows["seeds_to_decide"].isna()
    pairs = [set(zip(r["method"], r["source"], r["target"], strict=True)) for r in (rows[~hopeless], rows[hopeless])]
    return pairs[0], pairs[1]


def test_until_decided_adds_seeds_only_to_undecided_pairs_and_resumes(
    smoke_results: Path, smoke_cache: Path, tmp_path: Path
) -> None:
    filters = RunFilters(tasks=["digits", "mnist"])
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for results in (clean, killed):  # the planned seeds (0, 1) are already done
        for target in ("digits", "mnist"):
            shutil.copytree(smoke_results / "runs/smoke" / target, results / "runs/smoke" / target)
    summary = run_until_decided("smoke", clean, filters, max_seeds=6, cache_dir=smoke_cache, futility=True)
    assert summary.first.n_skipped == summary.first.n_planned and summary.first.n_ok == 0
    on_disk = {(r.method, r.source, r.target, r.seed) for r in scan_runs(clean, "smoke", include_planned=False)}
    total_extended = total_hopeless = 0
    for seed in (2, 3, 4, 5):
        undecided, hopeless = _undecided_at(clean, set(range(seed)))
        extended = {(m, s, t) for m, s, t, k in on_disk if k == seed and m != "target_only"}
        # Exactly the pairs still inconclusive on the earlier seeds, less the hopeless ones.
        assert extended == undecided
        refs = {t for m, s, t, k in on_disk if k == seed and m == "target_only"}
        assert refs == {t for _, _, t in undecided}
        total_extended += len(extended)
        total_hopeless += len(hopeless)
    per_seed = len(plan_runs(get_suite("smoke"), RunFilters(tasks=["digits", "mnist"], seeds=[0])))
    assert 0 < total_extended < 4 * per_seed  # some pairs needed more seeds, and some did not
    assert summary.n_hopeless == total_hopeless
    assert summary.n_runs == len(on_disk) < summary.n_runs_all_max == 6 * per_seed

    with pytest.raises(KeyboardInterrupt):
        run_until_decided("smoke", killed, filters, max_seeds=6, cache_dir=smoke_cache, futility=True,
                          executor=InterruptingExecutor(after=3))
    run_until_decided("smoke", killed, filters, max_seeds=6, cache_dir=smoke_cache, futility=True)
    clean_runs = sorted(p.relative_to(clean) for p in clean.rglob("predictions.parquet"))
    assert clean_runs == sorted(p.relative_to(killed) for p in killed.rglob("predictions.parquet"))
    for rel in clean_runs:
        assert pd.read_parquet(clean / rel).equals(pd.read_parquet(killed / rel)), rel


def test_target_only_on_the_source_draw_is_the_source_model_trained_once(
    smoke_results: Path, smoke_cache: Path
) -> None:
    # In smoke, a target's draw is its source draw (both 96 examples): one content key, one
    # fit, serving the source model and the target_only run; the run records what it cost.
    run = next(r for r in plan_runs(get_suite("smoke"), RunFilters(tasks=["digits"], seeds=[1]))
               if r.method == "target_only")
    record = json.loads((RunStore(smoke_results).run_dir(run) / "run.json").read_text())
    reused = record["reused_fit"]
    ws = WorkspaceSpec(get_suite("smoke"), "cpu", smoke_cache).build()
    as_target, as_source = FitJob("digits", 1, "target", run.budget), FitJob("digits", 1)
    assert ws.fit_key(as_target) == ws.fit_key(as_source)
    assert reused["fit"] == f"digits-seed1-{ws.fit_key(as_source)}.pt" and reused["fit_seconds"] > 0
    assert reused["examples_processed"] > 0 and reused["training"][0]["val_accuracy"]
    assert record["examples_processed"] == record["n_test"]  # this run only predicted
    # A fresh fit of the same run (no shared fit) gives the same predictions, bit for bit.
    fresh = execute_run(ws, RunJob(run, record["key"], {}))
    assert fresh.ok and fresh.manifest.reused_fit is None
    assert fresh.predictions is not None
    stored = pd.read_parquet(RunStore(smoke_results).run_dir(run) / "predictions.parquet")
    assert fresh.predictions.to_pandas().equals(stored)
    # Another budget is another draw: another fit.
    assert ws.fit_key(FitJob("digits", 1, "target", 48)) != ws.fit_key(as_source)
    # Only the reference method's own run is served the fit.
    assert ws.serves_reference_fit(run, make_method("target_only"))
    assert not ws.serves_reference_fit(dataclasses.replace(run, method="finetune"), make_method("finetune"))


@pytest.mark.parametrize("method", ["task_arithmetic", "ties"])
def test_merging_methods_start_from_the_stored_target_only_fit(
    smoke_cache: Path, tmp_path: Path, method: str
) -> None:
    # target_only first, then the merging method on the same draw: the merging run reuses the
    # stored fit (no second training: the fit file is not rewritten, the run's history has no
    # training loop), records it, and its start is bit for bit target_only's model.
    filters = RunFilters(tasks=["digits"], methods=["target_only"], seeds=[0], budgets=None)
    cache = tmp_path / "cache"
    shutil.copytree(smoke_cache / "features", cache / "features")
    assert run_suite("smoke", tmp_path / "results", filters, cache_dir=cache).n_failed == 0
    fits = {p: p.stat().st_mtime_ns for p in (cache / "fits").glob("digits-*.pt")}
    only = dataclasses.replace(filters, methods=[method], hyperparameters=[f"{method}.scales=0"]
                               if method == "task_arithmetic" else [])
    assert run_suite("smoke", tmp_path / "results", only, cache_dir=cache).n_failed == 0
    assert {p: p.stat().st_mtime_ns for p in (cache / "fits").glob("digits-*.pt")} == fits  # not retrained
    store = RunStore(tmp_path / "results")
    ref_run = next(r for r in plan_runs(get_suite("smoke"), filters))
    ref = json.loads((store.run_dir(ref_run) / "run.json").read_text())
    for run in plan_runs(get_suite("smoke"), only):
        record = json.loads((store.run_dir(run) / "run.json").read_text())
        assert record["reused_fit"]["fit"] == ref["reused_fit"]["fit"]
        assert all("val_accuracy" not in step for step in record["training"])  # no training loop ran
        assert record["training"][0]["merge_scale"] in record["training"][0]["merge_scales"]
        if method == "task_arithmetic":  # scale 0: the stored fit itself, so target_only's predictions
            mine = pd.read_parquet(store.run_dir(run) / "predictions.parquet")
            assert mine.equals(pd.read_parquet(store.run_dir(ref_run) / "predictions.parquet"))
