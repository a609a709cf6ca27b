"""Leaderboards: tidy CSVs computed from the run store alone (the measures and outputs the README documents).

``build_leaderboards(results_dir)`` reads every run under ``<results>/runs`` (all suites),
computes accuracies, transfer gains against ``target_only``, paired significance tests,
multiple-comparison adjustments, verdicts and per-method aggregates with
:mod:`benchmark.analysis.stats`, and writes seven CSVs to ``<results>/leaderboards/``:

- ``per_task.csv``: one row per (suite, method, source, target, budget): accuracy over seeds.
- ``transfer_matrix.csv``: one row per (suite, method, source, target, budget) of every
  method except the reference: gain, CI, p, adjusted p, equivalence, MDE, verdict.
- ``negative_transfer.csv``: the real (non-control) rows of the transfer matrix judged negative.
- ``significance.csv``: one row per test (the crossed t verdict test, its TOST, McNemar per
  seed, Wilcoxon from 6 seeds), with the family it was adjusted in.
- ``leaderboard.csv``: one row per (suite, budget, method): aggregates over real pairs with
  CIs, rank.
- ``group_scores.csv``: per many -> one group, what each source adds (leave-one-source-out)
  and the group over its best single source, with verdicts (:mod:`benchmark.analysis.group_scores`).
- ``merge_all.csv``: per merge-all group, the one merged model against each task's expert and
  the pretrained row, normalized accuracy with a CI, interference / no-loss verdicts
  (:mod:`benchmark.analysis.merge_all`).
- ``transferability.csv``: one row per (suite, target, budget, source, estimator): the
  estimator's score before training, ``finetune``'s measured gain, and per (target, budget)
  Kendall τ / weighted τ between them; ``transferability_ranking.csv``: estimators ranked by
  mean τ over a suite's targets (:mod:`benchmark.analysis.transferability`).

Every column is documented in the README, section "Leaderboard CSV columns" (the column tuples in
:mod:`benchmark.analysis.schema` are the source of truth; a test checks that the document and the files agree).

Design decisions (also in the docs):

- **Suites** are never mixed, nor are target budgets: every statistic, family and rank is
  computed inside one suite and one budget.
- **Pairing**: a comparison of method M (source S) with ``target_only`` on target T at budget
  B uses only the seeds where both runs are ok, and aligns test examples by ``id`` (never by
  row order); examples missing from any of those runs are dropped (with a warning).
- **Families**: p-values are adjusted per (suite, method, budget, test), controls apart
  (:func:`benchmark.analysis.transfer.family_name`), so adding a method changes no other
  method's numbers.
- **Missing data**: a planned run without results is *missing*, a run whose ``run.json``
  says failed is *failed*; both are counted in ``n_failed`` / ``n_missing`` columns, and a
  pair with no paired seed keeps its row with empty statistics and verdict ``missing``.
- **Rank** (leaderboard): methods are ordered by ``mean_rank`` (average rank of the
  method's accuracy per target, rank 1 = best, ties averaged), then by higher
  ``mean_gain``, then by name; ``rank`` is the 1-based position in that order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.collect import RunResults
from benchmark.analysis.group_scores import group_scores_table
from benchmark.analysis.merge_all import merge_all_table
from benchmark.analysis.schema import NEGATIVE_COLUMNS, PER_TASK_COLUMNS, control_rows, csv_text, sort_rows
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import DEFAULTS, AnalysisSettings
from benchmark.analysis.tables import leaderboard_table, per_task_table
from benchmark.analysis.transfer import merge_all_rows, transfer_and_significance
from benchmark.analysis.transferability import load_scores, transferability_tables
from benchmark.errors import BenchmarkError, ConfigError
from benchmark.files import atomic_write_text
from benchmark.runs.layout import ResultsLayout
from benchmark.runs.roles import Roles
from benchmark.runs.store import RunRecord, load_roles, load_sequential_designs, scan_runs, suites

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Leaderboards:
    """The leaderboard tables, as written to CSV."""

    leaderboard: pd.DataFrame
    per_task: pd.DataFrame
    transfer_matrix: pd.DataFrame
    negative_transfer: pd.DataFrame
    significance: pd.DataFrame
    transferability: pd.DataFrame
    transferability_ranking: pd.DataFrame
    group_scores: pd.DataFrame
    merge_all: pd.DataFrame

    def files(self) -> dict[str, pd.DataFrame]:
        """File name -> table, in the order of :data:`CSV_COLUMNS`."""
        return {
            "leaderboard.csv": self.leaderboard,
            "per_task.csv": self.per_task,
            "transfer_matrix.csv": self.transfer_matrix,
            "negative_transfer.csv": self.negative_transfer,
            "significance.csv": self.significance,
            "group_scores.csv": self.group_scores,
            "merge_all.csv": self.merge_all,
            "transferability.csv": self.transferability,
            "transferability_ranking.csv": self.transferability_ranking,
        }


def _check_resamples(n_resamples: int) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer, got {n_resamples!r}")


def compute_leaderboards(
    records: Sequence[RunRecord],
    *,
    settings: AnalysisSettings = DEFAULTS,
    n_resamples: int = 10_000,
    seed: int = 0,
    designs: Mapping[str, SequentialDesign] | None = None,
    transferability_items: Sequence[Mapping[str, Any]] = (),
    roles: Mapping[str, Roles] | None = None,
) -> Leaderboards:
    """Compute every leaderboard table from run records (see :func:`benchmark.runs.store.scan_runs`).

    ``designs``: the sequential design of each suite run with ``--until-decided``;
    ``transferability_items``: scored (source, target, budget, seed) items
    (:func:`benchmark.analysis.transferability.load_scores`); ``roles``: each suite's reference
    and judge (default :class:`~benchmark.runs.roles.Roles`).
    """
    _check_resamples(n_resamples)
    store = RunResults(records, roles)
    per_task = sort_rows(per_task_table(store), ["suite", "method", "source", "target", "budget"], PER_TASK_COLUMNS)
    transfer, significance, samples = transfer_and_significance(
        store, settings, dict(designs or {}))
    # A negative control that is negative is expected, not news: real pairs only. A merge-all
    # group's loss is interference, reported in merge_all.csv.
    real = ~control_rows(transfer) & ~merge_all_rows(transfer)
    negative = transfer[real & (transfer["verdict"] == stats.NEGATIVE)].assign(
        _ntg=lambda f: -f["ntg"].astype(float))
    negative = negative.sort_values(["suite", "_ntg", "method", "source", "target", "budget"],
                                    kind="stable").reset_index(drop=True)[list(NEGATIVE_COLUMNS)]
    leaderboard = leaderboard_table(per_task, transfer, samples, store, n_resamples=n_resamples, seed=seed)
    scores, ranking = transferability_tables(store, transferability_items, seed=seed)
    groups = group_scores_table(store, settings, dict(designs or {}))
    merges = merge_all_table(transfer, per_task, roles)
    return Leaderboards(leaderboard, per_task, transfer, negative, significance, scores, ranking, groups, merges)


def leaderboards_dir(results_dir: str | os.PathLike[str]) -> Path:
    """``<results>/leaderboards``."""
    return ResultsLayout.of(results_dir).leaderboards


def build_leaderboards(
    results_dir: str | os.PathLike[str],
    *,
    settings: AnalysisSettings = DEFAULTS,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> list[Path]:
    """Rebuild ``<results>/leaderboards/*.csv`` from ``<results>/runs`` (every suite).

    Deterministic: the same runs and options give byte-identical files. Each file is
    written atomically. Returns the written paths (in :data:`CSV_COLUMNS` order).

    Raises :class:`BenchmarkError` when there is no ``runs`` folder, and
    :class:`ConfigError` for a bad ``n_resamples`` (``settings`` validate themselves).
    """
    results = Path(results_dir)
    runs = ResultsLayout.of(results).runs
    if not runs.is_dir():
        raise BenchmarkError(
            f"no runs under {runs}; run 'python -m benchmark run' first or pass --results DIR")
    records = scan_runs(results)
    if not records:
        log.warning("no runs found under %s; writing empty leaderboards", runs)
    designs = {suite: SequentialDesign(d["first_seeds"], d["max_seeds"], tuple(d["weights"]))
               for suite, d in load_sequential_designs(results).items()}
    tables = compute_leaderboards(records, settings=settings, n_resamples=n_resamples, seed=seed, designs=designs,
                                  transferability_items=load_scores(results),
                                  roles={suite: load_roles(results, suite) for suite in suites(results)})
    out_dir = leaderboards_dir(results)
    written = []
    for name, frame in tables.files().items():
        written.append(atomic_write_text(out_dir / name, csv_text(frame)))
    n_neg = len(tables.negative_transfer)
    log.info("leaderboards: %d runs, %d pairs (%d negative) -> %s", len(records),
             len(tables.transfer_matrix), n_neg, out_dir)
    return written
