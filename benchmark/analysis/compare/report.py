"""The ``compare`` report: ``report/index.md`` and ``index.html`` (one document model), with the
main report's gain-with-CI figure per task (MDE beside every interval, the ±margin band)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmark.analysis.document import Document, View, ci
from benchmark.analysis.figures import gain_figure, slug
from benchmark.analysis.formats import fmt_int, fmt_level, fmt_p, fmt_points
from benchmark.files import atomic_write_text


def _gain_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The verdict rows in the shape of the main report's figure (source = system, target = task)."""
    return rows.assign(source=rows["system"], target=rows["task"], budget=0)


def build_document(verdicts: pd.DataFrame, ranking: pd.DataFrame, out_dir: Path) -> Document:
    """The report; writes one figure per task into ``out_dir``."""
    doc = Document("compare: calibrated verdicts")
    if len(verdicts):
        first = verdicts.iloc[0]
        doc.para(f"Each system is compared with the baseline on the same examples and seeds (moderated crossed "
                 f"seed x example t test), p-values adjusted by {first['correction']} within each family, "
                 f"alpha {first['alpha']}, equivalence margin ±{fmt_points(first['margin'], signed=False)} points. "
                 "An inconclusive verdict is not evidence of no difference: read it with its MDE.", note=True)
    for task, rows in verdicts.groupby("task", sort=True):
        doc.heading(2, str(task))
        doc.table([View("system", lambda r: str(r["system"])),
                   View("baseline", lambda r: str(r["baseline"])),
                   View("seeds", lambda r: fmt_int(r["n_seeds"]), True),
                   View("gain", lambda r: fmt_points(r["gain"]), True), ci("ci_low", "ci_high"),
                   View("p adj", lambda r: fmt_p(r["p_adj"]), True),
                   View("TOST p adj", lambda r: fmt_p(r["p_equivalence_adj"]), True),
                   View("MDE", lambda r: fmt_points(r["mde"], signed=False), True),
                   View("seeds to decide", lambda r: fmt_int(r["seeds_to_decide"]), True),
                   View("verdict", lambda r: str(r["verdict"]))], rows.to_dict("records"))
        name = f"gain__{slug(str(task))}.png"
        gain_figure(_gain_rows(rows), method="systems", suite=str(task), path=out_dir / name,
                    reference=str(rows["baseline"].iloc[0]))
        doc.image(name, f"gains on {task}", "Gain per system with its 95% interval; the MDE is printed beside "
                  "each: a grey (inconclusive) interval with a large MDE means the data could not have seen a "
                  "small effect.")
        ranked = ranking[ranking["task"] == task]
        if len(ranked):
            doc.para("Ranking with tie groups: the rank interval holds every rank the data cannot rule out "
                     "(pairwise tests, Holm); systems it cannot separate share ranks.")
            doc.table([View("rank", lambda r: fmt_int(r["rank"]), True), View("system", lambda r: str(r["system"])),
                       View("accuracy", lambda r: fmt_level(r["accuracy"]), True),
                       View("rank interval", lambda r: f"[{int(r['rank_low'])}, {int(r['rank_high'])}]"),
                       View("not separable from", lambda r: str(r["tied_with"]) or "–")], ranked.to_dict("records"))
    return doc


def write_report(verdicts: pd.DataFrame, ranking: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``index.md``, ``index.html`` and the figures into ``out_dir``; returns the two pages."""
    doc = build_document(verdicts, ranking, out_dir)
    return [atomic_write_text(out_dir / "index.md", doc.markdown()),
            atomic_write_text(out_dir / "index.html", doc.html())]
