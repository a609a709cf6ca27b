"""``merge_all.csv``: a merge-all group's one merged model against each task's expert.

A merge-all run of task t (method m, group G) is a row of ``transfer_matrix.csv`` whose
source set holds its target: merged model vs ``target_only`` at the source budget, which *is*
t's expert (the same fit the merge took). Its crossed test, family
(``.../merge-all/crossed_t``) and verdict are read from there; this table adds the
pretrained row (the suite's ``pretrained`` role, by default ``linear_probe``: frozen
pretrained trunk, trained head), FusionBench's
normalized accuracy merged / expert with an interval, and the verdict's reading for merging
(interference, no loss).

Normalized accuracy. ``merged / expert = 1 + gain / expert``; its interval is
``1 + [ci_low, ci_high] / expert_accuracy``, the delta method with the expert's accuracy taken
as known (its relative error, about one point in eighty, multiplies a gain of a few points:
second order). ``benchmarks/bench_merge_all.py`` checks the coverage by simulation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.schema import MERGE_ALL, MISSING, sort_rows
from benchmark.analysis.transfer import merge_all_rows
from benchmark.runs.roles import Roles

READINGS = {stats.NEGATIVE: "interference", stats.EQUIVALENT: "no loss", stats.POSITIVE: "gain",
            stats.INCONCLUSIVE: "inconclusive", MISSING: "missing"}


def normalized_interval(ci_low: npt.ArrayLike, ci_high: npt.ArrayLike,
                        expert_accuracy: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The interval of merged / expert from the gain's interval: ``1 + ci / expert`` (shapes broadcast)."""
    expert = np.asarray(expert_accuracy, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(expert > 0, 1 + np.asarray(ci_low, dtype=float) / expert, np.nan)
        high = np.where(expert > 0, 1 + np.asarray(ci_high, dtype=float) / expert, np.nan)
    return low, high


def merge_all_table(transfer: pd.DataFrame, per_task: pd.DataFrame,
                    roles: Mapping[str, Roles] | None = None) -> pd.DataFrame:
    """Rows of ``merge_all.csv`` from the transfer matrix and the per-task table; ``roles``: each
    suite's roles (its ``pretrained`` method gives the pretrained row; default :class:`Roles`)."""
    rows = transfer[merge_all_rows(transfer)]
    pretrained_of = {suite: (roles or {}).get(suite, Roles()).pretrained for suite in per_task["suite"].unique()}
    probe = per_task[(per_task["method"] == per_task["suite"].map(pretrained_of)) & (per_task["n_seeds"] > 0)]
    pretrained = {(s, t, int(b)): float(a) for s, t, b, a in
                  zip(probe["suite"], probe["target"], probe["budget"], probe["accuracy_mean"], strict=True)}
    expert = rows["reference_accuracy"].to_numpy(dtype=float)
    merged = rows["method_accuracy"].to_numpy(dtype=float)
    low, high = normalized_interval(rows["ci_low"], rows["ci_high"], expert)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalized = np.where(expert > 0, merged / expert, np.nan)
    out = pd.DataFrame({
        "suite": rows["suite"], "group": rows["source"], "budget": rows["budget"], "method": rows["method"],
        "task": rows["target"], "n_seeds": rows["n_seeds"], "merged_accuracy": merged, "expert_accuracy": expert,
        "pretrained_accuracy": [pretrained.get((s, t, int(b)), np.nan) for s, t, b
                                in zip(rows["suite"], rows["target"], rows["budget"], strict=True)],
        "gain": rows["gain"], "ci_low": rows["ci_low"], "ci_high": rows["ci_high"],
        "normalized_accuracy": normalized, "normalized_ci_low": low, "normalized_ci_high": high,
        "p_adj": rows["p_adj"], "p_equivalence_adj": rows["p_equivalence_adj"], "verdict": rows["verdict"],
        "reading": [READINGS.get(str(v), str(v)) for v in rows["verdict"]],
    })
    return sort_rows(MERGE_ALL.frame(out.to_dict("records")), ["suite", "group", "budget", "method", "task"],
                     MERGE_ALL)
