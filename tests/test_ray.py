"""The Ray executor on a real local Ray runtime (2 CPUs, no cluster), the smoke suite's real
data and backbones: the local executor's predictions and leaderboards, a killed worker
retried, an interrupted driver resumed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest
import torch

from benchmark.analysis.leaderboard import compute_leaderboards
from benchmark.faults import ENV_VAR
from benchmark.runs.execute import RunJob
from benchmark.runs.executor import OnResult, WorkspaceSpec
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import run_suite
from benchmark.runs.store import RunStore, scan_runs
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob

ray = pytest.importorskip("ray")
from benchmark.runs.ray_executor import RayExecutor  # noqa: E402

pytestmark = pytest.mark.slow  # trains real models in subprocesses

TIMING_COLUMNS = {"wall_seconds_mean"}


@pytest.fixture(scope="module")
def ray_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local Ray runtime whose workers die once, at the start of the first run task that
    reaches the ``ray.run`` fault point (the marker file records that it happened)."""
    marker = tmp_path_factory.mktemp("faults") / "killed-once"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, f"ray.run=exit@{marker}")  # the workers inherit it
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield marker
        finally:
            ray.shutdown()


def _executor() -> RayExecutor:
    # The driver's thread count reproduces the local executor's numbers bit for bit.
    return RayExecutor(threads_per_run=torch.get_num_threads())


def test_ray_gives_the_local_executors_predictions_and_retries_a_killed_worker(
        ray_runtime: Path, smoke_results: Path, smoke_cache: Path, tmp_path: Path) -> None:
    summary = run_suite("smoke", tmp_path, cache_dir=smoke_cache, executor=_executor())
    assert summary.n_failed == 0 and summary.n_ok == summary.n_planned > 0, summary.line()
    assert ray_runtime.exists()  # a worker was killed mid-suite, and its run was retried
    for spec in plan_runs(get_suite("smoke"), RunFilters()):
        mine = pd.read_parquet(RunStore(tmp_path).run_dir(spec) / "predictions.parquet")
        local = pd.read_parquet(RunStore(smoke_results).run_dir(spec) / "predictions.parquet")
        assert mine.equals(local), spec.label()
    ours = compute_leaderboards(scan_runs(tmp_path), n_resamples=200)
    theirs = compute_leaderboards(scan_runs(smoke_results), n_resamples=200)
    for name, table in ours.files().items():
        keep = [c for c in table.columns if c not in TIMING_COLUMNS]
        pd.testing.assert_frame_equal(table[keep], theirs.files()[name][keep], obj=name)


class Interrupted(KeyboardInterrupt):
    pass


class InterruptAfter(RayExecutor):
    """A Ray executor whose driver is interrupted after ``n`` results were written."""

    def __init__(self, n: int) -> None:
        super().__init__(threads_per_run=torch.get_num_threads())
        self.n = n

    def execute(self, workspace: WorkspaceSpec, fits: Sequence[FitJob], runs: Sequence[RunJob],
                on_result: OnResult) -> None:
        seen = 0

        def counting(job: RunJob, outcome: object) -> None:
            nonlocal seen
            on_result(job, outcome)  # type: ignore[arg-type]
            seen += 1
            if seen == self.n:
                raise Interrupted

        super().execute(workspace, fits, runs, counting)


def test_an_interrupted_ray_driver_resumes_without_redoing_finished_runs(
        ray_runtime: Path, smoke_results: Path, smoke_cache: Path, tmp_path: Path) -> None:
    filters = RunFilters(tasks=["digits"], methods=["target_only", "finetune"])
    with pytest.raises(Interrupted):
        run_suite("smoke", tmp_path, filters, cache_dir=smoke_cache, executor=InterruptAfter(3))
    again = run_suite("smoke", tmp_path, filters, cache_dir=smoke_cache, executor=_executor())
    assert (again.n_skipped, again.n_failed) == (3, 0) and again.n_ok == again.n_planned - 3, again.line()
    for spec in plan_runs(get_suite("smoke"), filters):
        mine = pd.read_parquet(RunStore(tmp_path).run_dir(spec) / "predictions.parquet")
        local = pd.read_parquet(RunStore(smoke_results).run_dir(spec) / "predictions.parquet")
        assert mine.equals(local), spec.label()
