"""The report: ``<results>/report/index.md`` and ``index.html`` with tables and plots.

Everything is read from the leaderboard CSVs (built from ``runs/`` first when they are
absent), so the report shows exactly what the CSVs say. Per suite it contains:

- "what this suite can see": per target and budget, the controls against their expected
  direction, the minimum detectable effect, how many fusion pairs are decided and the seed
  variance their tests use (own seeds, or borrowed from which pairs and targets);
- the leaderboard table of each target budget, and gain against budget;
- the pairs judged negative (negative transfer) and the runs that failed or are missing;
- fusion groups: many -> one (gain over the best single source, each source's contribution)
  and merge-all tables (methods x tasks with the expert and pretrained rows, normalized
  accuracy with CIs, interference / no-loss verdicts);
- transferability estimators ranked by how well they predict finetune's gain per target;
- per method, a transfer-matrix heatmap (source x target, colour = gain in accuracy points
  with a diverging colormap centred at 0; significant pairs marked ``+`` / ``−``, negative
  ones also hatched; pairs without a paired seed grey and labelled "missing") and a
  gain-with-95%-CI plot (one line per pair);
- the per-task accuracy table, and a note when some tasks use synthetic data.

Both pages are generated from one list of blocks, so they always say the same thing. The
HTML is self-contained (inline CSS, an inline script that sorts and filters the tables, no
external assets); matplotlib's Agg backend writes the PNGs beside the pages (relative paths).
"""


from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.columns import Table
from benchmark.analysis.document import Document, View, ci, show, text
from benchmark.analysis.figures import (
    budget_figure,
    gain_figure,
    gain_limit,
    heatmap_figure,
    slug,
    transferability_figure,
)
from benchmark.analysis.formats import fmt_ci, fmt_int, fmt_num, fmt_points, source_label
from benchmark.analysis.leaderboard import build_leaderboards, leaderboards_dir
from benchmark.analysis.report_groups import many_to_one_section, merge_all_section
from benchmark.analysis.schema import (
    CSV_COLUMNS,
    LEADERBOARD,
    NEGATIVE,
    PER_TASK,
    TRANSFER,
    TRANSFERABILITY,
    TRANSFERABILITY_RANKING,
    control_rows,
)
from benchmark.files import atomic_write_text
from benchmark.runs.layout import ResultsLayout
from benchmark.runs.roles import Roles
from benchmark.runs.store import load_roles

log = logging.getLogger(__name__)

_FIGURE_PREFIXES = ("heatmap_", "gain_", "budget_", "transferability_")


def _read(path: Path) -> pd.DataFrame:
    # keep_default_na=False: a task called "NA" or "null" stays a name; only "" is missing.
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"source": str, "target": str, "method": str, "suite": str})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")  # type: ignore[return-value]


def _table(doc: Document, table: Table, frame: pd.DataFrame, views: Sequence[View | str]) -> None:
    """``frame``'s rows of the CSV ``table``: the views (a column name = the column as declared), then
    every column a plug-in registered on that CSV."""
    shown = [show(table.column(v)) if isinstance(v, str) else v for v in views]
    shown += [show(c) for c in table.registered() if c.name in frame.columns]
    doc.table(shown, _records(frame))


def _is_reference(r: Mapping[str, Any]) -> bool:
    return bool(r["reference"])


def _leaderboard_section(doc: Document, lb: pd.DataFrame) -> None:
    def method(r: Mapping[str, Any]) -> str:
        return f"{r['method']} (reference)" if _is_reference(r) else str(r["method"])

    def pairs(r: Mapping[str, Any]) -> str:
        return "–" if _is_reference(r) else fmt_int(r["n_pairs"]) + (
            f" (+{fmt_int(r['n_pairs_missing'])} missing)" if r["n_pairs_missing"] else "")

    def verdicts(r: Mapping[str, Any]) -> str:
        return "–" if _is_reference(r) else "/".join(fmt_int(r[k]) for k in ("wins", "ties", "losses", "inconclusive"))

    _table(doc, LEADERBOARD, lb.sort_values("rank"), [
        "rank", View("method", method), View("pairs", pairs, right=True),
        "mean_gain", ci("mean_gain_ci_low", "mean_gain_ci_high"), "iqm_gain", ci("iqm_gain_ci_low", "iqm_gain_ci_high"),
        "probability_of_improvement", View("W/E/L/I", verdicts), "negative_transfer_rate", "mean_rank",
        "mean_accuracy",
        View("runs (failed, missing)", lambda r: f"{fmt_int(r['n_runs'])} ({fmt_int(r['n_failed'])}, "
             f"{fmt_int(r['n_missing'])})"),
        "wall_seconds_mean"])


def _pairs_table(doc: Document, rows: pd.DataFrame, with_method: bool, table: Table = TRANSFER) -> None:
    _table(doc, table, rows, [*(["method"] if with_method else []),
        "source", "target", "budget", "n_seeds", "method_accuracy", "reference_accuracy", "gain",
        ci("ci_low", "ci_high"), "p_value", "p_adj", "mde", "verdict"])


DECIDED = (stats.POSITIVE, stats.NEGATIVE, stats.EQUIVALENT)


def _seed_variance_line(pairs: pd.DataFrame) -> str:
    """One target's tested pairs: median per-seed gain SD, and whose seeds it came from."""
    if "seed_sd_from" not in pairs or pairs.empty:
        return "–"
    sources = pairs["seed_sd_from"].fillna("").astype(str)
    parts = [f"{(sources == s).sum()} {'own' if s == 'own' else 'borrowed from ' + s}"
             for s in sorted(set(sources) - {""}, key=lambda s: (s != "own", s))]
    return f"SD {fmt_points(pairs['seed_sd'].median(), False)} pts; " + ("; ".join(parts) or "–")


def _what_it_can_see(doc: Document, tm: pd.DataFrame, controls: pd.DataFrame, per_task: pd.DataFrame,
                     roles: Roles) -> None:
    """Per target and budget: the controls against their expected direction, the MDE and the
    decided fusion pairs, before any method's result."""
    doc.heading(3, "What this suite can see")
    fusion = tm[tm["source"] != "-"]
    tested = fusion[fusion["verdict"] != "missing"]
    doc.para(f"Decided: {int(tested['verdict'].isin(DECIDED).sum())} of {len(tested)} tested fusion pairs "
             f"(positive, negative or equivalent); median MDE of the fusion pairs "
             f"{fmt_points(tested['mde'].median(), False)} points. Controls: a positive control (more of "
             "the target's own data) must come out positive, a negative control (the same data with "
             "shuffled labels) negative; "
             + (f"{roles.judge} is the method every control is judged by (the suite's judge)." if roles.judge
                else "this suite declares no judge, so no method's controls are judged (set judge: in its "
                     "suite file)."))
    undecided = tested[tested["verdict"] == "inconclusive"]
    if len(undecided):
        hopeless = int(undecided["seeds_to_decide"].isna().sum())
        doc.para(f"Of the {len(undecided)} inconclusive fusion pairs, {hopeless} would stay undecided at 20 seeds "
                 f"(empty `seeds_to_decide`): their gains (median |gain| "
                 f"{fmt_points(undecided['gain'].abs().median(), False)} points) are below what the suite can "
                 "detect and too close to the equivalence margin to be shown equivalent.")
    reference = per_task[per_task["method"] == roles.reference].set_index(["target", "budget"])["accuracy_mean"]
    rows = []
    cells = sorted({(str(t), int(b)) for t, b in zip(tm["target"], tm["budget"], strict=True)})
    for target, budget in cells:
        here = fusion[(fusion["target"] == target) & (fusion["budget"] == budget)]
        here_tested = here[here["verdict"] != "missing"]
        ctl = controls[(controls["target"] == target) & (controls["budget"] == budget)
                       & (controls["method"] == roles.judge)]
        marks = [f"{str(r.source).rpartition('~')[2]}: {r.verdict}"
                 + (" ✓" if r.verdict == r.control else " ✗") for r in ctl.itertuples(index=False)]
        rows.append({"target": target, "budget": str(budget),
                     "reference": fmt_points(reference.get((target, budget)), False),
                     "decided": f"{int(here_tested['verdict'].isin(DECIDED).sum())}/{len(here_tested)}",
                     "mde": fmt_points(here_tested["mde"].median(), False), "controls": "; ".join(marks) or "–",
                     "seed_var": _seed_variance_line(here_tested)})
    doc.table([text("target", "target"), text("budget", "budget", right=True),
               text(f"{roles.reference} acc.", "reference", right=True),
               text("fusion pairs decided", "decided", right=True), text("median MDE", "mde", right=True),
               text(f"{roles.judge} controls (✓ = expected verdict)", "controls"),
               text("seed variance its pairs use", "seed_var")], rows)
    if controls.empty:
        doc.para("This suite runs no controls, so nothing shows it could see an effect if one were "
                 "there; add `controls: [more, shuffled]` to its suite file.", note=True)
        return
    missed = controls[controls["verdict"].astype(str) != controls["control"].astype(str)]
    doc.para(f"{len(controls) - len(missed)} of {len(controls)} control pairs (every method) give their "
             "expected verdict.")
    for r in missed[missed["method"] == roles.judge].itertuples(index=False):
        doc.para(f"Warning: on {r.target} at budget {int(r.budget)}, {roles.judge} from the {r.control} control "
                 f"{r.source} is {r.verdict} (gain {fmt_points(r.gain)}, MDE {fmt_points(r.mde, False)}): "
                 f"a {r.control} effect of this size would not be seen on this target.", note=True)
    _table(doc, TRANSFER, controls, [
        "method", show(TRANSFER.column("source"), "control"), "target", "budget",
        show(TRANSFER.column("control"), "expected"), "verdict", "gain", ci("ci_low", "ci_high"), "mde"])


def _suite_section(doc: Document, suite: str, roles: Roles, tables: dict[str, pd.DataFrame], out_dir: Path,
                   figures: list[Path]) -> None:
    lb = tables["leaderboard.csv"].query("suite == @suite")
    per_task = tables["per_task.csv"].query("suite == @suite")
    tm_all = tables["transfer_matrix.csv"].query("suite == @suite")
    is_control = control_rows(tm_all)
    controls, tm = tm_all[is_control], tm_all[~is_control]
    neg = tables["negative_transfer.csv"].query("suite == @suite")
    doc.heading(2, f"Suite: {suite}")
    n_runs, n_failed, n_missing = (int(per_task[c].sum()) for c in
                                   ("n_runs", "n_failed", "n_missing"))
    alpha = tm["alpha"].iloc[0] if len(tm) else float("nan")
    correction = tm["correction"].iloc[0] if len(tm) else "–"
    margin = float(tm["margin"].iloc[0]) * 100 if len(tm) else float("nan")
    doc.para(
        f"{n_runs} runs planned or found: {n_runs - n_failed - n_missing} ok, {n_failed} "
        f"failed, {n_missing} missing. Gains are paired differences in test accuracy against "
        f"{roles.reference} (accuracy points, i.e. x100), with 95% intervals from the crossed "
        f"seeds x test-examples variance model; p-values are adjusted with {correction} within each "
        f"method's family of pairs; a pair is positive / negative when its adjusted p < {alpha:g}, "
        f"equivalent when its adjusted TOST p < {alpha:g} (gain within ±{margin:g} points), else "
        f"inconclusive. MDE = the smallest gain the pair could detect (80% power)."
    )
    precisions = sorted({p for cell in per_task["precision"].dropna().astype(str) for p in cell.split("+") if p})
    mixed = per_task[per_task["precision"].astype(str).str.contains("+", regex=False)]
    doc.para(f"Precision: the runs were computed in {' and '.join(precisions) or '–'} "
             "(auto: bf16 where the CPU or GPU runs it natively, else fp32). Numbers reproduce bit for bit "
             "only at the same precision, thread count and CPU kind; across them, only statistically.")
    if len(mixed):
        cells = ", ".join(f"{r.method} {source_label(str(r.source))}→{r.target} at {r.budget}"
                          for r in mixed.head(8).itertuples(index=False))
        doc.para(f"Warning: {len(mixed)} cells average runs of two precisions ({cells}"
                 f"{' ...' if len(mixed) > 8 else ''}); rerun them at one precision before reading them.",
                 note=True)
    synthetic = sorted(per_task.loc[per_task["synthetic"].astype(str) == "True", "target"]
                       .unique())
    if synthetic:
        doc.para(
            "Synthetic data: the tasks " + ", ".join(synthetic) + " used generated stand-in "
            "data (no real data set was available), so their numbers test the pipeline and "
            "say nothing about real transfer.", note=True)

    _what_it_can_see(doc, tm, controls, per_task, roles)

    budgets = sorted(int(b) for b in lb["budget"].unique())
    for budget in budgets:
        doc.heading(3, f"Leaderboard at {budget} target training examples" if len(budgets) > 1 else "Leaderboard")
        doc.para("Ranked by mean rank of accuracy per target (1 = best), then by mean gain. "
                 "W/E/L/I = pairs judged positive / equivalent / negative / inconclusive. Control "
                 "pairs are left out.")
        _leaderboard_section(doc, lb[lb["budget"] == budget])
    if len(budgets) > 1:
        doc.heading(3, "Gain against budget")
        path = out_dir / f"budget_{slug(suite)}.png"
        figures.append(budget_figure(tm, lb, suite=suite, path=path, reference=roles.reference))
        doc.image(path.name, f"Transfer gain against the target's training budget in suite {suite}, "
                  "one panel per method",
                  "One thin line per source and target pair (marker: its verdict at that budget; filled = "
                  "decided), the thick line the method's mean gain over its pairs with its 95% CI. "
                  "Transfer usually helps most when the target has little data.")

    doc.heading(3, "Negative transfer")
    if len(neg):
        doc.para(f"{len(neg)} pair(s) where the method is significantly worse than "
                 f"{roles.reference} (NTG = −gain):")
        _pairs_table(doc, neg, with_method=True, table=NEGATIVE)
    else:
        doc.para("No pair was judged negative.")

    many_to_one_section(doc, tm, tables["group_scores.csv"].query("suite == @suite"))
    merge_all_section(doc, tables["merge_all.csv"].query("suite == @suite"))

    _transferability_section(doc, tables["transferability.csv"].query("suite == @suite"),
                             tables["transferability_ranking.csv"].query("suite == @suite"), suite, roles, out_dir,
                             figures)

    problems = per_task[(per_task["n_failed"] > 0) | (per_task["n_missing"] > 0)]
    doc.heading(3, "Failed and missing runs")
    if len(problems):
        doc.table([show(PER_TASK.column(c)) for c in ("method", "source", "target", "budget", "n_runs", "n_seeds",
                                                        "n_failed", "n_missing")], _records(problems))
    else:
        doc.para("Every planned run finished.")

    limit = gain_limit(tm)
    for method in sorted(tm["method"].unique()):
        rows = tm[tm["method"] == method]
        doc.heading(3, f"Method: {method}")
        for budget in sorted(int(b) for b in rows["budget"].unique()):
            at = f" at budget {budget}" if len(budgets) > 1 else ""
            heat = out_dir / f"heatmap_{slug(suite, method, f'budget{budget}')}.png"
            figures.append(heatmap_figure(rows[rows["budget"] == budget], method=method, suite=suite + at,
                                          path=heat, limit=limit, reference=roles.reference))
            doc.image(heat.name,
                      f"Heatmap of the transfer gain of {method} over {roles.reference} in suite "
                      f"{suite}{at}, sources on rows and targets on columns",
                      "Colour: gain in accuracy points on one scale for every method of the suite "
                      f"(blue better, red worse than {roles.reference}), in full only where the verdict is "
                      "decided: + positive, − negative (hatched); ≈ equivalent (green frame); faded cells "
                      "are inconclusive; grey cells have no paired seed.")
        gain = out_dir / f"gain_{slug(suite, method)}.png"
        figures.append(gain_figure(rows, method=method, suite=suite, path=gain, reference=roles.reference))
        doc.image(gain.name,
                  f"Transfer gain of {method} with 95% confidence intervals, one line per "
                  "source and target pair",
                  "Gain with its 95% CI per pair from the crossed variance-components model (not "
                  "adjusted for multiple comparisons; the colour follows the verdict, which uses the "
                  "adjusted p-values). Beside each pair its minimum detectable effect (80% power at "
                  "the family threshold); the green band is the equivalence margin.")
        _pairs_table(doc, rows, with_method=False)

    doc.heading(3, "Accuracy per task")
    _table(doc, PER_TASK, per_task, [
        "method", "source", "target", "budget",
        View("seeds", lambda r: f"{fmt_int(r['n_seeds'])}/{fmt_int(r['n_runs'])}", right=True),
        "accuracy_mean", "accuracy_std",
        ci("accuracy_ci_low", "accuracy_ci_high", fmt=lambda lo, hi: fmt_ci(lo, hi).replace("+", "")),
        "macro_f1_mean", "wall_seconds_mean"])


def _transferability_section(doc: Document, scores: pd.DataFrame, ranking: pd.DataFrame, suite: str,
                             roles: Roles, out_dir: Path, figures: list[Path]) -> None:
    """Estimators ranked by how well they order each target's sources like the judge's gain."""
    doc.heading(3, "Predicting transfer before training")
    if roles.judge is None:
        doc.para("This suite declares no judge, so there is no measured gain for transferability scores "
                 "to predict; set judge: <fusion method> in its suite file.", note=True)
        return
    if not len(scores):
        doc.para(f"No transferability scores: they are computed for sources with a {roles.judge} run "
                 "(`python -m benchmark transferability`).")
        return
    doc.para("Each estimator scores a source model on the target's training draw before any target "
             "training; Kendall τ compares, per target and budget, the order of the sources by score "
             f"(seed mean) with their order by the measured gain of {roles.judge} over {roles.reference}. Mean τ "
             "over targets, with a 95% seed-bootstrap interval; 1 = always the right order, 0 = chance. "
             "With two sources per target, τ = 2 × (share of targets where the estimator picks the "
             "better source) − 1.")
    if not len(ranking):
        doc.para("No target has two sources with scores and gains, so no estimator can be ranked.")
    def tau_ci(low: object, high: object) -> str:
        return f"[{fmt_num(low)}, {fmt_num(high)}]"

    _table(doc, TRANSFERABILITY_RANKING, ranking.sort_values("rank"), [
        "rank", "estimator", "n_groups", "mean_kendall_tau",
        ci("mean_kendall_tau_low", "mean_kendall_tau_high", fmt=tau_ci),
        "mean_weighted_tau", ci("mean_weighted_tau_low", "mean_weighted_tau_high", fmt=tau_ci), "description"])
    if len(ranking):
        path = out_dir / f"transferability_{slug(suite)}.png"
        figures.append(transferability_figure(scores, ranking, suite=suite, path=path))
        doc.image(path.name, f"Transferability scores against the measured {roles.judge} gain in suite {suite}, "
                  "one panel per estimator",
                  "Per target and budget, a line joins its sources: left the lower score, right the higher, "
                  f"height the measured gain of {roles.judge}. Blue: the higher score went with the higher gain; "
                  "red: the reverse; grey: tied scores.")
    estimators = list(ranking.sort_values("rank")["estimator"]) or list(scores["estimator"].unique())
    rows = []
    for (t, b, s), group in scores.groupby(["target", "budget", "source"], sort=True):
        by_estimator = dict(zip(group["estimator"], group["score"], strict=True))
        rows.append({"target": str(t), "budget": b, "source": str(s), "judge_gain": group["judge_gain"].iloc[0],
                     **{f"estimator:{e}": by_estimator.get(e, float("nan")) for e in estimators}})
    doc.para("Scores per source (seed means; a blank score does not apply, e.g. a sentence-pair "
             "source's head on single sentences), beside the gain they should predict:")
    score = TRANSFERABILITY.column("score")

    def score_view(estimator: str) -> View:
        return View(estimator, lambda r: score.text(r[f"estimator:{estimator}"]), right=True)

    doc.table([text("target", "target"), show(TRANSFERABILITY.column("budget")), text("source", "source"),
               show(TRANSFERABILITY.column("judge_gain")),
               *(score_view(e) for e in estimators)], rows)


def report_dir(results_dir: str | os.PathLike[str]) -> Path:
    """``<results>/report``."""
    return ResultsLayout.of(results_dir).report


def build_report(results_dir: str | os.PathLike[str], *, rebuild: bool = False) -> list[Path]:
    """Write ``<results>/report/index.md``, ``index.html`` and their PNGs.

    Reads ``<results>/leaderboards/*.csv``; builds them first (with default options) when
    any is absent or ``rebuild`` is true. Returns the written paths: the two pages first,
    then the figures. PNGs of methods no longer in the CSVs are removed.
    """
    results = Path(results_dir)
    lb_dir = leaderboards_dir(results)
    if rebuild or not all((lb_dir / name).is_file() for name in CSV_COLUMNS):
        log.info("leaderboard CSVs absent; building them from %s", results / "runs")
        build_leaderboards(results)
    tables = {name: _read(lb_dir / name) for name in CSV_COLUMNS}
    out_dir = report_dir(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = Document("Task-fusion benchmark report")
    doc.para("Generated from the leaderboard CSVs in ../leaderboards (every column: docs/outputs/columns.md "
             "in the benchmark's repository). Numbers are computed from stored per-example predictions.")
    figures: list[Path] = []
    suite_names = sorted(set(tables["per_task.csv"]["suite"].astype(str)))
    if not suite_names:
        doc.para("No runs yet: run `python -m benchmark run` first.")
    for suite in suite_names:
        _suite_section(doc, suite, load_roles(results, suite), tables, out_dir, figures)
    keep = {p.name for p in figures}
    for stale in out_dir.glob("*.png"):
        if stale.name.startswith(_FIGURE_PREFIXES) and stale.name not in keep:
            stale.unlink()
    md = atomic_write_text(out_dir / "index.md", doc.markdown())
    page = atomic_write_text(out_dir / "index.html", doc.html())
    log.info("report: %s (%d figures)", page, len(figures))
    return [md, page, *figures]
