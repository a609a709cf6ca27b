"""Every path in a results folder, in one place.

    <results>/.run.lock                                  one writer at a time (runs/lock.py)
    <results>/runs/<suite>/plan.json                     what a run planned (and the suite's roles)
    <results>/runs/<suite>/sequential.json               the looks of run --until-decided
    <results>/runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>/run.json
    <results>/runs/<suite>/<target>/<method>/<source or ->/budget=<b>/seed=<s>/predictions.parquet
    <results>/transferability/<suite>/<target>/<source>/budget=<b>/seed=<s>.json
    <results>/leaderboards/<name>.csv
    <results>/report/index.md, index.html, *.png

Only this module joins path pieces of a results folder; readers and writers ask it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NO_SOURCE = "-"
"""Folder name (and CSV value) standing for "no source task" (per-target methods)."""


def source_dirname(source: str | None) -> str:
    """Folder name of a source task: the name, or ``-`` when the method has no source."""
    return NO_SOURCE if source is None or source == NO_SOURCE else str(source)


@dataclass(frozen=True)
class ResultsLayout:
    """The paths of the results folder ``root``."""

    root: Path

    @classmethod
    def of(cls, results_dir: str | os.PathLike[str]) -> ResultsLayout:
        return cls(Path(results_dir))

    # -- runs ------------------------------------------------------------------------------
    @property
    def lock(self) -> Path:
        return self.root / ".run.lock"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def suite_dir(self, suite: str) -> Path:
        return self.runs / suite

    def plan(self, suite: str) -> Path:
        return self.suite_dir(suite) / "plan.json"

    def sequential(self, suite: str) -> Path:
        return self.suite_dir(suite) / "sequential.json"

    def run_dir(self, suite: str, target: str, method: str, source: str | None, budget: int, seed: int) -> Path:
        return (self.suite_dir(suite) / target / method / source_dirname(source)
                / f"budget={int(budget)}" / f"seed={int(seed)}")

    RUN_FILENAME = "run.json"
    PREDICTIONS_FILENAME = "predictions.parquet"

    # -- transferability -------------------------------------------------------------------
    @property
    def transferability(self) -> Path:
        return self.root / "transferability"

    def transferability_item(self, suite: str, target: str, source: str, budget: int, seed: int) -> Path:
        return self.transferability / suite / target / source / f"budget={int(budget)}" / f"seed={int(seed)}.json"

    # -- outputs ---------------------------------------------------------------------------
    @property
    def leaderboards(self) -> Path:
        return self.root / "leaderboards"

    def leaderboard(self, name: str) -> Path:
        """``<results>/leaderboards/<name>.csv``."""
        return self.leaderboards / f"{name}.csv"

    @property
    def report(self) -> Path:
        return self.root / "report"
