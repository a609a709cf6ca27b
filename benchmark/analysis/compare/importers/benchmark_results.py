"""``--from benchmark``: this benchmark's results folder (``<results>/runs``).

Task = ``<suite>/<target>/budget=<b>``, system = the method (``<method>@<source>`` for a method
with a source), seed = the run's seed, one row per test example of every ok run. The baseline
is the suite's reference (``target_only``), the native families are the leaderboard's
(:func:`~benchmark.analysis.transfer.family_name`) and a suite run with ``--until-decided``
keeps its sequential design, so ``compare --from benchmark results`` reproduces
``transfer_matrix.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.analysis.collect import RunResults
from benchmark.analysis.compare.evaluations import Evaluations, tidy
from benchmark.analysis.compare.registry import register_importer
from benchmark.analysis.schema import TEST_CROSSED
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.transfer import family_name
from benchmark.errors import DataError
from benchmark.runs.layout import ResultsLayout
from benchmark.runs.store import NO_SOURCE, load_roles, load_sequential_designs, scan_runs, suites


def task_name(suite: str, target: str, budget: int) -> str:
    return f"{suite}/{target}/budget={int(budget)}"


def system_name(method: str, source: str) -> str:
    return method if source == NO_SOURCE else f"{method}@{source}"


@register_importer("benchmark")
def read_results(paths: Sequence[str], **options: Any) -> Evaluations:
    """The ok runs of one results folder (no options)."""
    if options or len(paths) != 1:
        raise DataError("--from benchmark takes one results folder and no options")
    results = Path(paths[0])
    if not ResultsLayout.of(results).runs.is_dir():
        raise DataError(f"no runs under {ResultsLayout.of(results).runs}; pass a results folder (e.g. results)")
    roles = {suite: load_roles(results, suite) for suite in suites(results)}
    store = RunResults([r for r in scan_runs(results) if r.status == "ok"], roles)
    frames, families, baselines, designs = [], {}, {}, {}
    raw = load_sequential_designs(results)
    for run, data in sorted(store.data.items()):
        task, system = task_name(run.suite, run.target, run.budget), system_name(run.method, run.source)
        frames.append(pd.DataFrame({"task": task, "system": system, "seed": run.seed, "example_id": data.ids,
                                    "correct": data.correct}))
        baselines[task] = store.roles_of(run.suite).reference
        families[(task, system)] = family_name(run.suite, run.method, run.budget, TEST_CROSSED, run.source, run.target)
        if run.suite in raw:
            d = raw[run.suite]
            designs[task] = SequentialDesign(d["first_seeds"], d["max_seeds"], tuple(d["weights"]))
    if not frames:
        raise DataError(f"{results}: no ok runs to compare")
    frame = pd.concat(frames, ignore_index=True)
    frame["correct"] = frame["correct"].astype(np.bool_)
    return Evaluations(tidy(frame, str(results)), baselines, families, designs)
