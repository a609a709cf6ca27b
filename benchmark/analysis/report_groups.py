"""The report's group sections: merge-all tables in FusionBench's shape (methods x tasks, with
the expert and pretrained rows and an average) carrying verdicts and intervals, and the many ->
one table (gain over the reference, over the best single source, each source's contribution)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from benchmark.analysis.columns import control_rows, group_rows
from benchmark.analysis.document import Document, View
from benchmark.analysis.formats import fmt_ci, fmt_level, fmt_points
from benchmark.analysis.transfer import merge_all_rows

MARKS = {"interference": " ▼", "no loss": " =", "gain": " ▲", "positive": " ▲", "negative": " ▼",
         "equivalent": " ="}


def _cell(value: float, reading: str = "") -> str:
    return fmt_level(value) + MARKS.get(reading, "")


def merge_all_section(doc: Document, merges: pd.DataFrame) -> None:
    """Per merge-all group and budget: accuracy table (methods, expert, pretrained x tasks, avg)
    and normalized accuracy with its CI; then which method keeps most of the experts' accuracy."""
    if not len(merges):
        return
    doc.heading(3, "Merging K task models into one")
    doc.para("Each merge-all group's experts (the reference fit of each task at the source budget) are merged "
             "into one model, evaluated on every task with that task's own head. Cells: test accuracy (mean over "
             "seeds); ▼ = interference (significantly below the expert), = = no loss (equivalent within the "
             "margin), ▲ = above the expert, no mark = inconclusive. avg = mean over the tasks (no interval: the "
             "tasks share one merged model per seed, so their errors are correlated; the per-task verdicts carry "
             "the inference). Normalized = merged / expert with its 95% CI.")
    for (group, budget), cell in merges.groupby(["group", "budget"], sort=True):
        tasks = sorted(cell["task"].unique())
        doc.para(f"Group {group.replace('+', ', ')} at {int(budget)} training examples per expert:")
        first = cell.drop_duplicates("task").set_index("task")
        rows: list[dict[str, Any]] = [
            {"row": "expert (target_only)", **{t: fmt_level(first.loc[t, "expert_accuracy"]) for t in tasks},
             "avg": fmt_level(first["expert_accuracy"].mean())},
            {"row": "pretrained (linear_probe)", **{t: fmt_level(first.loc[t, "pretrained_accuracy"]) for t in tasks},
             "avg": fmt_level(first["pretrained_accuracy"].mean())}]
        normalized: list[dict[str, Any]] = []
        for method, by_method in cell.groupby("method", sort=True):
            m = by_method.set_index("task")
            rows.append({"row": method, **{t: _cell(m.loc[t, "merged_accuracy"], m.loc[t, "reading"])
                                           if t in m.index else "–" for t in tasks},
                         "avg": fmt_level(m["merged_accuracy"].mean())})
            normalized.append({"row": method, **{
                t: f"{m.loc[t, 'normalized_accuracy']:.3f} [{m.loc[t, 'normalized_ci_low']:.3f}, "
                   f"{m.loc[t, 'normalized_ci_high']:.3f}]" if t in m.index else "–" for t in tasks},
                "avg": f"{m['normalized_accuracy'].mean():.3f}"})
        views = [View("", lambda r: str(r["row"]))] + [View(t, _get(t), right=True) for t in tasks] + [
            View("avg", _get("avg"), right=True)]
        doc.table(views, rows)
        doc.para("Normalized accuracy (merged / expert):")
        doc.table(views, normalized)
        doc.para(best_merge_line(cell))


def _get(key: str):  # type: ignore[no-untyped-def]
    return lambda r: str(r[key])


def best_merge_line(cell: pd.DataFrame) -> str:
    """Which method keeps most of the experts' accuracy in one group, and how firm that is."""
    means = cell.groupby("method")["normalized_accuracy"].mean().sort_values(ascending=False)
    if means.empty or not np.isfinite(means.iloc[0]):
        return "No merged model could be compared with its experts."
    best = str(means.index[0])
    own = cell[cell["method"] == best]
    counts = own["reading"].value_counts()
    firm = (f"{best} keeps {means.iloc[0]:.3f} of the experts' accuracy on average over {len(own)} tasks "
            f"({counts.get('no loss', 0)} no loss, {counts.get('interference', 0)} interference, "
            f"{counts.get('inconclusive', 0)} inconclusive, {counts.get('gain', 0)} gain)")
    if len(means) > 1:
        firm += f"; next {means.index[1]} at {means.iloc[1]:.3f}"
    return ("Best merge here: " + firm + ". The order between methods is by their mean normalized accuracy; "
            "the verdicts are against each task's expert, not between methods.")


def many_to_one_section(doc: Document, transfer: pd.DataFrame, scores: pd.DataFrame) -> None:
    """Per many -> one group: per method, the gain over the reference, over the best single
    source, and each source's leave-one-out contribution, each with CI and verdict."""
    groups = transfer[~control_rows(transfer) & group_rows(transfer) & ~merge_all_rows(transfer)]
    if not len(groups):
        return
    doc.heading(3, "Many sources into one target")
    doc.para("Per group and method: the group's gain over the reference (as in the transfer matrix), its gain over "
             "the best single source of the same method (the pair with the higher accuracy; picked by observed "
             "accuracy, so biased down: positive there is conservative), and each source's contribution (group "
             "minus the group without it). Gains in accuracy points with 95% CI and verdict (group_scores.csv).")
    rows: list[Mapping[str, Any]] = []
    for r in groups.itertuples(index=False):
        mine = scores[(scores["method"] == r.method) & (scores["target"] == r.target)
                      & (scores["sources"] == r.source) & (scores["budget"] == r.budget)]
        best = mine[mine["best_single"].astype(str) == "True"]
        loo = mine[mine["leave_one_out"].astype(str) == "True"]
        rows.append({
            "group": f"{r.source.replace('+', ', ')} → {r.target}", "budget": str(int(r.budget)), "method": r.method,
            "vs_reference": _gain(r.gain, r.ci_low, r.ci_high, r.verdict),
            "vs_best": "–" if best.empty else f"{best['reference_sources'].iloc[0]}: " + _gain(
                best["gain"].iloc[0], best["ci_low"].iloc[0], best["ci_high"].iloc[0], best["verdict"].iloc[0]),
            "contributions": "; ".join(f"{x.dropped} {_gain(x.gain, x.ci_low, x.ci_high, x.verdict)}"
                                       for x in loo.itertuples(index=False)) or "–"})
    doc.table([View("group", _get("group")), View("budget", _get("budget"), right=True), View("method", _get("method")),
               View("gain over reference", _get("vs_reference")), View("over best single source", _get("vs_best")),
               View("each source's contribution", _get("contributions"))], rows)


def _gain(gain: float, low: float, high: float, verdict: Any) -> str:
    return f"{fmt_points(gain)} {fmt_ci(low, high)} {verdict}"
