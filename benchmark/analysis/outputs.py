"""Rebuild the leaderboards and the report after a run, unless they already show these runs."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from benchmark import paths
from benchmark.analysis.columns import load_extensions, tables
from benchmark.analysis.estimators import estimators
from benchmark.analysis.leaderboard import build_leaderboards
from benchmark.analysis.report import build_report
from benchmark.analysis.stats.settings import DEFAULTS, AnalysisSettings
from benchmark.fingerprint import code_fingerprint
from benchmark.runs.layout import ResultsLayout

log = logging.getLogger(__name__)


def refresh_outputs(results_dir: str | Path, *, settings: AnalysisSettings = DEFAULTS,
                    cache_dir: Path | None = None) -> bool:
    """Build leaderboards and report from ``runs/``; skipped when both exist and were built from
    exactly these run records with the same settings and code. Returns whether it rebuilt."""
    results = Path(results_dir)
    stamp = _inputs_stamp(results, f"{settings.alpha}|{settings.correction}|{settings.margin}")
    stamp_path = (cache_dir or paths.cache_dir()) / "leaderboard-inputs" / \
        hashlib.sha256(str(results.resolve()).encode()).hexdigest()[:24]
    layout = ResultsLayout(results)
    board = layout.leaderboard("leaderboard")
    report = layout.report / "index.html"
    if board.exists() and report.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        log.info("leaderboards and report are up to date with runs/; not rebuilt")
        return False
    build_leaderboards(results, settings=settings)
    build_report(results)
    stamp_path.parent.mkdir(parents=True, exist_ok=True)
    stamp_path.write_text(stamp)
    return True


def _inputs_stamp(results_dir: Path, settings: str) -> str:
    """Hash of everything the outputs are computed from (run records, plans, transferability
    scores, settings, code)."""
    h = hashlib.sha256(settings.encode())
    # Plug-in columns and estimators change the outputs without touching the package's code.
    load_extensions()
    h.update(repr({name: list(t) for name, t in tables().items()}).encode())
    h.update(repr(sorted(estimators())).encode())
    h.update(code_fingerprint([Path(__file__)]).encode())  # this module and all it imports
    layout = ResultsLayout(results_dir)
    for path in sorted([*layout.runs.rglob("*.json"), *layout.transferability.rglob("*.json")]):
        h.update(str(path.relative_to(results_dir)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
