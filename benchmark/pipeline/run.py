"""``run_pipeline``: the one entry point of a run, from plan to report."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from benchmark.analysis.outputs import refresh_outputs
from benchmark.pipeline.request import DEFAULT_MAX_SEEDS, RunRequest
from benchmark.pipeline.sequential import AdaptiveSummary, run_until_decided
from benchmark.pipeline.transferability import score_suite
from benchmark.runs.runner import Summary, run_suite
from benchmark.runs.suite_catalog import get_suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSummary:
    """What a run did: its runs (planned seeds, or the sequential looks) and the
    transferability items ``(scored, reused, failed)``."""

    runs: Summary | AdaptiveSummary
    transferability: tuple[int, int, int]

    @property
    def n_failed(self) -> int:
        return self.runs.n_failed

    def line(self) -> str:
        return self.runs.line()


def score_transferability(request: RunRequest) -> tuple[int, int, int]:
    """Score the suite's transferability items not scored yet: ``(scored, reused, failed)``."""
    counts = score_suite(request.suite, request.results_dir, device=request.device,
                         precision=request.filters.precision, cache_dir=request.cache_dir)
    if counts[0] or counts[2]:
        log.info("transferability: %d scored, %d reused, %d failed", *counts)
    return counts


def run_pipeline(request: RunRequest) -> PipelineSummary:
    """Plan and execute the request's runs (adding seeds to undecided pairs when it asks for
    sequential seeds, or its suite file does), score transferability, and rebuild the
    leaderboards and the report when the runs changed."""
    # A suite file may ask for sequential seeds itself (max_seeds); explicit --seeds run just those.
    suite_max = get_suite(request.suite).max_seeds if request.filters.seeds is None else None
    runs: Summary | AdaptiveSummary
    if request.until_decided or suite_max is not None:
        runs = run_until_decided(request.suite, request.results_dir, request.filters,
                                 max_seeds=request.max_seeds or suite_max or DEFAULT_MAX_SEEDS,
                                 device=request.device, cache_dir=request.cache_dir, executor=request.executor,
                                 settings=request.settings, futility=request.futility)
    else:
        runs = run_suite(request.suite, request.results_dir, request.filters, request.device,
                         request.cache_dir, request.executor)
    counts = score_transferability(request)
    refresh_outputs(request.results_dir, settings=request.settings, cache_dir=request.cache_dir)
    return PipelineSummary(runs, counts)
