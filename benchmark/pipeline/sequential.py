"""``run --until-decided``: add seeds only to the pairs the planned seeds left undecided.

After the planned S0 seeds, look k = S0 + 1, ..., K adds one seed (the next integer) to every
pair that was still ``inconclusive`` on its first k - 1 seeds: the method's run on that
seed, the ``target_only`` run it is paired with and the source model it needs. With
``futility`` (``--futility``, off by default), a pair that no seed count up to K is projected
to decide (its ``seeds_to_decide`` is empty) gets no more seeds: it saves runs and keeps the
error rate (``benchmarks/bench_calibration.py``), but the projection from the observed gain
is pessimistic: replayed on the default suite's runs it would have stopped every fusion
pair that its eighth seed decided (docs/performance.md). The
leaderboard's p-values then follow the sequential design written to
``runs/<suite>/sequential.json`` (weighted Bonferroni over the looks, so optional stopping
keeps the error rate; see :mod:`benchmark.analysis.stats.sequential`).

Each look's decisions are computed from the first k - 1 seeds of every pair only, so they
are a pure function of runs on disk: an interrupted command, rerun, takes the same path.
This module orchestrates runs and analysis; it adds no statistics of its own.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.analysis.leaderboard import compute_leaderboards
from benchmark.analysis.stats.sequential import sequential_weights
from benchmark.analysis.stats.settings import DEFAULTS, AnalysisSettings
from benchmark.errors import ConfigError
from benchmark.runs.executor import Executor
from benchmark.runs.plan import RunFilters, plan_runs
from benchmark.runs.runner import Summary, run_suite
from benchmark.runs.store import NO_SOURCE, RunId, RunStore, scan_runs
from benchmark.runs.suite_catalog import get_suite

log = logging.getLogger(__name__)

UNDECIDED = "inconclusive"


@dataclass
class AdaptiveSummary:
    """What ``--until-decided`` did: the runs of every look and how many runs it saved."""

    first: Summary
    looks: list[tuple[int, int, Summary]] = field(default_factory=list)  # (seeds, pairs extended, summary)
    n_runs: int = 0
    n_runs_all_max: int = 0
    n_hopeless: int = 0  # undecided pairs stopped for futility, summed over looks

    @property
    def n_failed(self) -> int:
        return self.first.n_failed + sum(s.n_failed for _, _, s in self.looks)

    def line(self) -> str:
        parts = [f"planned seeds: {self.first.line()}"]
        parts += [f"seed {k}: {n} undecided pairs, {s.n_ok} ran, {s.n_skipped} already done, {s.n_failed} failed"
                  for k, n, s in self.looks]
        if self.n_hopeless:
            parts.append(f"{self.n_hopeless} pair-looks stopped for futility (no seed count up to the "
                         f"maximum is projected to decide them)")
        saved = self.n_runs_all_max - self.n_runs
        parts.append(f"{self.n_runs} runs in all; {saved} fewer than {self.n_runs_all_max} "
                     f"({saved / max(1, self.n_runs_all_max):.0%} saved) for every pair at the maximum seeds")
        return "\n".join(parts)


def run_until_decided(suite_name: str, results_dir: str | Path, filters: RunFilters, *, max_seeds: int,
                      device: str = "cpu", cache_dir: Path | None = None, executor: Executor | None = None,
                      settings: AnalysisSettings = DEFAULTS, futility: bool = False) -> AdaptiveSummary:
    """Run the planned seeds, then add seeds to undecided pairs until decided or ``max_seeds``
    (or, with ``futility``, until no seed count up to ``max_seeds`` is projected to decide them)."""
    suite = get_suite(suite_name)
    seeds = sorted(filters.seeds if filters.seeds is not None else suite.seeds)
    first = len(seeds)
    if max_seeds <= first:
        raise ConfigError(f"--max-seeds {max_seeds} must exceed the {first} planned seeds; "
                          f"e.g. --max-seeds {first + 3}.")
    all_seeds = seeds + [max(seeds) + i for i in range(1, max_seeds - first + 1)]
    design = sequential_weights(first, max_seeds)
    store = RunStore(results_dir)
    store.write_sequential_design(suite.name, first, max_seeds, design.weights)
    planned = plan_runs(suite, filters)
    result = AdaptiveSummary(first=run_suite(suite.name, results_dir, filters, device, cache_dir, executor))
    all_runs = list(planned)
    in_filter = {(r.method, r.source, r.target, r.budget) for r in planned}
    for k in range(first + 1, max_seeds + 1):
        known = set(all_seeds[: k - 1])
        records = [r for r in scan_runs(results_dir, suite.name, include_planned=False) if r.seed in known]
        tables = compute_leaderboards(records, settings=settings, n_resamples=1, designs={suite.name: design},
                                      roles={suite.name: suite.roles})
        matrix = tables.transfer_matrix
        undecided = matrix[(matrix["verdict"] == UNDECIDED) & (matrix["n_seeds"] == k - 1)]
        if futility:
            hopeless = undecided["seeds_to_decide"].isna()
            result.n_hopeless += int(hopeless.sum())
            undecided = undecided[~hopeless]
        pairs = sorted((m, s, t, int(b)) for m, s, t, b in zip(undecided["method"], undecided["source"],
                                                               undecided["target"], undecided["budget"], strict=True)
                       if (m, s, t, int(b)) in in_filter)
        if not pairs:
            log.info("every pair is decided (or failed) after %d seeds", k - 1)
            break
        seed = all_seeds[k - 1]
        new = sorted({RunId(suite.name, t, m, s, b, seed) for m, s, t, b in pairs}
                     | {RunId(suite.name, t, suite.roles.reference, NO_SOURCE, b, seed) for _, _, t, b in pairs})
        existing = set(all_runs)
        all_runs.extend(r for r in new if r not in existing)
        log.info("seed %d: %d undecided pairs, %d runs", k, len(pairs), len(new))
        summary = run_suite(suite.name, results_dir, filters, device, cache_dir, executor, runs=new, plan=all_runs)
        result.looks.append((k, len(pairs), summary))
    result.n_runs = len(all_runs)
    result.n_runs_all_max = len(plan_runs(suite, dataclasses.replace(filters, seeds=all_seeds)))
    return result
