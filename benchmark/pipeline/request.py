"""What a user asks for: which suite and runs, where, how, and with which analysis settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmark.analysis.stats.settings import DEFAULTS, AnalysisSettings
from benchmark.errors import ConfigError
from benchmark.runs.executor import Executor
from benchmark.runs.plan import RunFilters

#: ``--max-seeds`` when ``--until-decided`` is given without it and the suite sets none.
DEFAULT_MAX_SEEDS = 6


@dataclass(frozen=True)
class RunRequest:
    """One ``run``: the suite (a name or a YAML file), the results folder, which runs
    (``filters``), where they execute, whether seeds are added sequentially, and the settings
    the verdicts are computed with."""

    suite: str
    results_dir: Path
    filters: RunFilters = field(default_factory=RunFilters)
    device: str = "cpu"
    executor: Executor | None = None  # None: the local executor
    cache_dir: Path | None = None  # None: the default cache folder
    until_decided: bool = False
    max_seeds: int | None = None
    futility: bool = False
    settings: AnalysisSettings = DEFAULTS

    def __post_init__(self) -> None:
        if self.max_seeds is not None and not self.until_decided:
            raise ConfigError("--max-seeds only applies with --until-decided; add --until-decided.")
