"""``compare``: read per-example results with an importer, test every system against the
baseline, rank the systems with tie groups, write the tables and the report.

Outputs (``--out DIR``): ``verdicts.csv`` (:data:`~benchmark.analysis.compare.verdicts.VERDICT_COLUMNS`),
``ranking.csv`` (:data:`~benchmark.analysis.compare.ranking.RANKING_COLUMNS`), ``report/index.md`` and
``report/index.html``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.analysis.columns import csv_text
from benchmark.analysis.compare.evaluations import Evaluations, TaskRuns
from benchmark.analysis.compare.ranking import ranking_table
from benchmark.analysis.compare.registry import read
from benchmark.analysis.compare.report import write_report
from benchmark.analysis.compare.verdicts import comparisons, verdict_table
from benchmark.analysis.stats.settings import DEFAULTS, AnalysisSettings
from benchmark.files import atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparisons:
    """The two tables of ``compare``."""

    verdicts: pd.DataFrame
    ranking: pd.DataFrame

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write the CSVs and the report into ``out_dir``; returns the written paths."""
        out = Path(out_dir)
        written = [atomic_write_text(out / "verdicts.csv", csv_text(self.verdicts)),
                   atomic_write_text(out / "ranking.csv", csv_text(self.ranking))]
        return written + write_report(self.verdicts, self.ranking, out / "report")


def compare(evaluations: Evaluations, *, baseline: str | None = None, family: str | None = None,
            settings: AnalysisSettings = DEFAULTS, rank: bool = True) -> Comparisons:
    """Verdicts of every system against the baseline, and each task's ranking.

    ``family``: ``task`` / ``system`` / ``native`` (default: ``native`` when the input declares
    families, as this benchmark's results do, else ``task``). ``rank=False`` skips the ranking.
    """
    family = family or ("native" if evaluations.families else "task")
    tasks = {task: TaskRuns.of(evaluations.frame, task) for task in evaluations.tasks()}
    verdicts = verdict_table(evaluations, comparisons(evaluations, tasks, baseline, family), settings)
    ranks = [ranking_table(runs, settings.alpha) for _, runs in sorted(tasks.items())] if rank else []
    ranking = pd.concat(ranks, ignore_index=True) if ranks else pd.DataFrame()
    log.info("compare: %d comparisons on %d tasks (%s families)", len(verdicts), len(tasks), family)
    return Comparisons(verdicts, ranking)


def compare_files(importer: str, paths: Sequence[str], *, out_dir: str | os.PathLike[str] | None = None,
                  baseline: str | None = None, family: str | None = None, settings: AnalysisSettings = DEFAULTS,
                  rank: bool = True, options: Mapping[str, Any] | None = None) -> Comparisons:
    """Read ``paths`` with ``importer`` (and its ``options``, e.g. ``{"metric": "acc"}``), :func:`compare`,
    and write into ``out_dir``."""
    result = compare(read(importer, paths, **dict(options or {})), baseline=baseline, family=family, settings=settings,
                     rank=rank)
    if out_dir is not None:
        result.write(out_dir)
    return result
