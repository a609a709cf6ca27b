"""The report: ``<results>/report/index.md`` and ``index.html`` with tables and plots.

Everything is read from the leaderboard CSVs (built from ``runs/`` first when they are
absent), so the report shows exactly what the CSVs say. Per suite it contains:

- the leaderboard table;
- the pairs judged negative (negative transfer) and the runs that failed or are missing;
- per method, a transfer-matrix heatmap (source x target, colour = gain in accuracy points
  with a diverging colormap centred at 0; significant pairs marked ``+`` / ``−``, negative
  ones also hatched; pairs without a paired seed grey and labelled "missing") and a
  gain-with-95%-CI plot (one line per pair);
- the per-task accuracy table, and a note when some tasks use synthetic data.

Both pages are generated from one list of blocks, so they always say the same thing. The
HTML is self-contained (inline CSS, no scripts, no external assets); the PNGs are written
by matplotlib's Agg backend next to the pages and referenced by relative paths.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from benchmark.leaderboard import CSV_COLUMNS, build_leaderboards, leaderboards_dir  # noqa: E402
from benchmark.run_store import REFERENCE_METHOD, atomic_write_bytes, atomic_write_text  # noqa: E402

log = logging.getLogger(__name__)

REPORT_DIRNAME = "report"
_FIGURE_PREFIXES = ("heatmap_", "gain_")
_POSITIVE_COLOUR = "#2166ac"
_NEGATIVE_COLOUR = "#b2182b"
_NEUTRAL_COLOUR = "#555555"
_MISSING_COLOUR = "#bdbdbd"
_MINUS = "\u2212"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fff; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .88rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5rem .8rem; }
.table-wrap { overflow-x: auto; }
"""


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Para:
    text: str
    note: bool = False


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: set[int]
    """Indexes of right-aligned (numeric) columns."""


@dataclass(frozen=True)
class _Image:
    src: str
    alt: str
    caption: str


_Block = _Heading | _Para | _Table | _Image


@dataclass
class _Doc:
    """A report as a list of blocks, rendered to Markdown and HTML."""

    title: str
    blocks: list[_Block] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(_Heading(level, text))

    def para(self, text: str, note: bool = False) -> None:
        self.blocks.append(_Para(text, note))

    def table(self, headers: list[str], rows: list[list[str]], numeric: set[int]) -> None:
        self.blocks.append(_Table(headers, rows, numeric))

    def image(self, src: str, alt: str, caption: str) -> None:
        self.blocks.append(_Image(src, alt, caption))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            if isinstance(block, _Heading):
                out += ["#" * block.level + " " + block.text, ""]
            elif isinstance(block, _Para):
                out += [("> " if block.note else "") + block.text, ""]
            elif isinstance(block, _Table):
                out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
                out.append("|" + "|".join("---:" if i in block.numeric else "---"
                                           for i in range(len(block.headers))) + "|")
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                out.append("")
            else:
                out += [f"![{_md_cell(block.alt)}]({block.src})", "", f"*{block.caption}*", ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        esc = html.escape
        body: list[str] = [f"<h1>{esc(self.title)}</h1>"]
        for block in self.blocks:
            if isinstance(block, _Heading):
                anchor = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
                body.append(f'<h{block.level} id="{esc(anchor)}">{esc(block.text)}'
                            f"</h{block.level}>")
            elif isinstance(block, _Para):
                css = ' class="note"' if block.note else ""
                body.append(f"<p{css}>{esc(block.text)}</p>")
            elif isinstance(block, _Table):
                head = "".join(f'<th scope="col">{esc(h)}</th>' for h in block.headers)
                lines = []
                for row in block.rows:
                    cells = "".join(
                        f'<td class="num">{esc(c)}</td>' if i in block.numeric
                        else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
                    lines.append(f"<tr>{cells}</tr>")
                body.append(f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                            f'<tbody>{"".join(lines)}</tbody></table></div>')
            else:
                body.append(f'<figure><img src="{esc(block.src)}" alt="{esc(block.alt)}">'
                            f"<figcaption>{esc(block.caption)}</figcaption></figure>")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
        )


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- formatting


def _isnan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return value is None


def _pp(value: Any, signed: bool = True) -> str:
    """A gain (fraction) in accuracy points, e.g. ``+3.2``; ``–`` when missing."""
    if _isnan(value):
        return "–"
    text = f"{100.0 * float(value):+.1f}" if signed else f"{100.0 * float(value):.1f}"
    return text.replace("-", _MINUS)


def _ci(low: Any, high: Any) -> str:
    if _isnan(low) or _isnan(high):
        return "–"
    return f"[{_pp(low)}, {_pp(high)}]"


def _num(value: Any, digits: int = 2) -> str:
    if _isnan(value):
        return "–"
    return f"{float(value):.{digits}f}"


def _p(value: Any) -> str:
    if _isnan(value):
        return "–"
    v = float(value)
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def _int(value: Any) -> str:
    return "–" if _isnan(value) else str(int(float(value)))


def _source_label(source: str) -> str:
    return "(none)" if source == "-" else source


def _slug(*parts: str) -> str:
    """A file-name-safe join of names: ``default__linear_probe``."""
    return "__".join(re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip("-") or "x" for p in parts)


# --------------------------------------------------------------------------- figures


def _savefig(fig: plt.Figure, path: Path) -> Path:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def heatmap_figure(rows: pd.DataFrame, *, method: str, suite: str, path: Path) -> Path:
    """Source x target heatmap of one method's gains (rows of transfer_matrix.csv)."""
    sources = sorted(rows["source"].astype(str).unique())
    targets = sorted(rows["target"].astype(str).unique())
    grid = np.full((len(sources), len(targets)), np.nan)
    for r in rows.itertuples(index=False):
        grid[sources.index(str(r.source)), targets.index(str(r.target))] = float(r.gain) * 100
    finite = np.abs(grid[np.isfinite(grid)])
    lim = max(float(finite.max()) if finite.size else 0.0, 1.0)
    width = max(4.5, 0.95 * len(targets) + 2.8)
    height = max(2.6, 0.62 * len(sources) + 1.9)
    fig, ax = plt.subplots(figsize=(width, height))
    cmap = plt.get_cmap("RdBu").with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap,
                      norm=TwoSlopeNorm(vmin=-lim, vcenter=0.0, vmax=lim), aspect="auto")
    for r in rows.itertuples(index=False):
        i, j = sources.index(str(r.source)), targets.index(str(r.target))
        if r.verdict == "missing":
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_MISSING_COLOUR,
                                   edgecolor="white", linewidth=1.0))
            ax.text(j, i, "missing", ha="center", va="center", fontsize=7, color="#333333")
            continue
        value = grid[i, j]
        marker = {"positive": "+", "negative": _MINUS}.get(str(r.verdict), "")
        if r.verdict == "negative":
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                   edgecolor="black", linewidth=1.2))
        elif r.verdict == "positive":
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False,
                                   edgecolor="black", linewidth=1.5))
        colour = "white" if abs(value) > 0.6 * lim else "black"
        label = _pp(value / 100.0) + (f"\n{marker}" if marker else "")
        ax.text(j, i, label, ha="center", va="center", fontsize=8, color=colour,
                fontweight="bold" if marker else "normal")
    ax.set_xticks(range(len(targets)), targets, rotation=35, ha="right")
    ax.set_yticks(range(len(sources)), [_source_label(s) for s in sources])
    ax.set_xlabel("target task")
    ax.set_ylabel("source task")
    ax.set_title(f"{method} vs {REFERENCE_METHOD} ({suite}): transfer gain", fontsize=10)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("gain (accuracy points)")
    return _savefig(fig, path)


def gain_figure(rows: pd.DataFrame, *, method: str, suite: str, path: Path) -> Path:
    """Gain with its 95% CI per pair (one line per source→target), coloured by verdict."""
    tested = rows[rows["verdict"] != "missing"].copy()
    missing = rows[rows["verdict"] == "missing"]
    tested = tested.sort_values(["gain", "source", "target"], kind="stable")
    labels = [f"{_source_label(str(s))} \u2192 {t}" for s, t in zip(tested["source"],
                                                                    tested["target"], strict=True)]
    labels += [f"{_source_label(str(s))} \u2192 {t} (missing)"
               for s, t in zip(missing["source"], missing["target"], strict=True)]
    n = max(1, len(labels))
    fig, ax = plt.subplots(figsize=(7.0, max(2.2, 0.34 * n + 1.3)))
    y = np.arange(len(tested))
    gains = tested["gain"].to_numpy(dtype=float) * 100
    low = tested["ci_low"].to_numpy(dtype=float) * 100
    high = tested["ci_high"].to_numpy(dtype=float) * 100
    colours = [{"positive": _POSITIVE_COLOUR, "negative": _NEGATIVE_COLOUR}.get(v, _NEUTRAL_COLOUR)
               for v in tested["verdict"]]
    for k in range(len(tested)):
        ax.errorbar(gains[k], y[k], xerr=[[gains[k] - low[k]], [high[k] - gains[k]]], fmt="o",
                    color=colours[k], ecolor=colours[k], capsize=3, markersize=5)
    for k in range(len(missing)):
        ax.text(0.0, len(tested) + k, "no paired seed", ha="center", va="center", fontsize=8,
                color="#666666")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(f"gain vs {REFERENCE_METHOD} (accuracy points, 95% CI)")
    ax.set_title(f"{method} ({suite}): blue = positive, red = negative, grey = inconclusive",
                 fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return _savefig(fig, path)


# --------------------------------------------------------------------------- sections


def _read(path: Path) -> pd.DataFrame:
    # keep_default_na=False: a task called "NA" or "null" stays a name; only "" is missing.
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"source": str, "target": str, "method": str, "suite": str})


def _leaderboard_section(doc: _Doc, lb: pd.DataFrame) -> None:
    headers = ["rank", "method", "pairs", "mean gain", "95% CI", "IQM gain", "95% CI",
               "P(improve)", "W/T/L", "neg. rate", "mean rank", "mean acc.",
               "runs (failed, missing)", "wall s/run"]
    rows = []
    for r in lb.sort_values("rank").itertuples(index=False):
        reference = bool(r.reference)
        rows.append([
            _int(r.rank), f"{r.method} (reference)" if reference else str(r.method),
            "–" if reference else f"{_int(r.n_pairs)}"
            + (f" (+{_int(r.n_pairs_missing)} missing)" if r.n_pairs_missing else ""),
            _pp(r.mean_gain), _ci(r.mean_gain_ci_low, r.mean_gain_ci_high),
            _pp(r.iqm_gain), _ci(r.iqm_gain_ci_low, r.iqm_gain_ci_high),
            _num(r.probability_of_improvement),
            "–" if reference else f"{_int(r.wins)}/{_int(r.ties)}/{_int(r.losses)}",
            _num(r.negative_transfer_rate), _num(r.mean_rank), _pp(r.mean_accuracy, False),
            f"{_int(r.n_runs)} ({_int(r.n_failed)}, {_int(r.n_missing)})",
            _num(r.wall_seconds_mean, 1),
        ])
    doc.table(headers, rows, numeric={0, 2, 3, 5, 7, 9, 10, 11, 13})


def _pairs_table(doc: _Doc, rows: pd.DataFrame, with_method: bool) -> None:
    headers = (["method"] if with_method else []) + [
        "source", "target", "seeds", "method acc.", "reference acc.", "gain", "95% CI",
        "p", "p adj.", "verdict"]
    body = []
    for r in rows.itertuples(index=False):
        body.append(([str(r.method)] if with_method else []) + [
            _source_label(str(r.source)), str(r.target), _int(r.n_seeds),
            _pp(r.method_accuracy, False), _pp(r.reference_accuracy, False), _pp(r.gain),
            _ci(r.ci_low, r.ci_high), _p(r.p_value), _p(r.p_adj), str(r.verdict)])
    offset = 1 if with_method else 0
    doc.table(headers, body, numeric={offset + k for k in (2, 3, 4, 5, 7, 8)})


def _suite_section(doc: _Doc, suite: str, tables: dict[str, pd.DataFrame], out_dir: Path,
                   figures: list[Path]) -> None:
    lb = tables["leaderboard.csv"].query("suite == @suite")
    per_task = tables["per_task.csv"].query("suite == @suite")
    tm = tables["transfer_matrix.csv"].query("suite == @suite")
    neg = tables["negative_transfer.csv"].query("suite == @suite")
    doc.heading(2, f"Suite: {suite}")
    n_runs, n_failed, n_missing = (int(per_task[c].sum()) for c in
                                   ("n_runs", "n_failed", "n_missing"))
    alpha = tm["alpha"].iloc[0] if len(tm) else float("nan")
    correction = tm["correction"].iloc[0] if len(tm) else "–"
    doc.para(
        f"{n_runs} runs planned or found: {n_runs - n_failed - n_missing} ok, {n_failed} "
        f"failed, {n_missing} missing. Gains are paired differences in test accuracy against "
        f"{REFERENCE_METHOD} (accuracy points, i.e. x100), with 95% hierarchical-bootstrap "
        f"intervals; p-values are adjusted with {correction} within the suite; a pair is "
        f"positive / negative when its adjusted p < {alpha:g}."
    )
    synthetic = sorted(per_task.loc[per_task["synthetic"].astype(str) == "True", "target"]
                       .unique())
    if synthetic:
        doc.para(
            "Synthetic data: the tasks " + ", ".join(synthetic) + " used generated stand-in "
            "data (no real data set was available), so their numbers test the pipeline and "
            "say nothing about real transfer.", note=True)

    doc.heading(3, "Leaderboard")
    doc.para("Ranked by mean rank of accuracy per target (1 = best), then by mean gain. "
             "W/T/L = pairs judged positive / inconclusive / negative.")
    _leaderboard_section(doc, lb)

    doc.heading(3, "Negative transfer")
    if len(neg):
        doc.para(f"{len(neg)} pair(s) where the method is significantly worse than "
                 f"{REFERENCE_METHOD} (NTG = −gain):")
        _pairs_table(doc, neg, with_method=True)
    else:
        doc.para("No pair was judged negative.")

    problems = per_task[(per_task["n_failed"] > 0) | (per_task["n_missing"] > 0)]
    doc.heading(3, "Failed and missing runs")
    if len(problems):
        doc.table(["method", "source", "target", "runs", "ok", "failed", "missing"], [
            [str(r.method), _source_label(str(r.source)), str(r.target), _int(r.n_runs),
             _int(r.n_seeds), _int(r.n_failed), _int(r.n_missing)]
            for r in problems.itertuples(index=False)], numeric={3, 4, 5, 6})
    else:
        doc.para("Every planned run finished.")

    for method in sorted(tm["method"].unique()):
        rows = tm[tm["method"] == method]
        doc.heading(3, f"Method: {method}")
        heat = out_dir / f"heatmap_{_slug(suite, method)}.png"
        figures.append(heatmap_figure(rows, method=method, suite=suite, path=heat))
        doc.image(heat.name,
                  f"Heatmap of the transfer gain of {method} over {REFERENCE_METHOD} in suite "
                  f"{suite}, sources on rows and targets on columns",
                  "Colour: gain in accuracy points (blue better, red worse than "
                  f"{REFERENCE_METHOD}). + / − mark significant pairs (negative ones hatched); "
                  "grey cells have no paired seed.")
        gain = out_dir / f"gain_{_slug(suite, method)}.png"
        figures.append(gain_figure(rows, method=method, suite=suite, path=gain))
        doc.image(gain.name,
                  f"Transfer gain of {method} with 95% confidence intervals, one line per "
                  "source and target pair",
                  "Gain with its 95% hierarchical-bootstrap CI per pair (not adjusted for "
                  "multiple comparisons; the colour follows the verdict, which uses the "
                  "adjusted p-value).")
        _pairs_table(doc, rows, with_method=False)

    doc.heading(3, "Accuracy per task")
    doc.table(["method", "source", "target", "seeds", "accuracy", "std", "95% CI",
               "macro-F1", "wall s/run"], [
        [str(r.method), _source_label(str(r.source)), str(r.target),
         f"{_int(r.n_seeds)}/{_int(r.n_runs)}", _pp(r.accuracy_mean, False),
         _pp(r.accuracy_std, False), _ci(r.accuracy_ci_low, r.accuracy_ci_high)
         .replace("+", ""), _pp(r.macro_f1_mean, False), _num(r.wall_seconds_mean, 1)]
        for r in per_task.itertuples(index=False)], numeric={3, 4, 5, 7, 8})


def report_dir(results_dir: str | os.PathLike[str]) -> Path:
    """``<results>/report``."""
    return Path(results_dir) / REPORT_DIRNAME


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
    doc = _Doc("Task-fusion benchmark report")
    doc.para("Generated from the leaderboard CSVs in ../leaderboards (see the README section 'Leaderboard CSV columns' "
             "for every column). Numbers are computed from stored per-example predictions.")
    figures: list[Path] = []
    suite_names = sorted(set(tables["per_task.csv"]["suite"].astype(str)))
    if not suite_names:
        doc.para("No runs yet: run `python -m benchmark run` first.")
    for suite in suite_names:
        _suite_section(doc, suite, tables, out_dir, figures)
    keep = {p.name for p in figures}
    for stale in out_dir.glob("*.png"):
        if stale.name.startswith(_FIGURE_PREFIXES) and stale.name not in keep:
            stale.unlink()
    md = atomic_write_text(out_dir / "index.md", doc.markdown())
    page = atomic_write_text(out_dir / "index.html", doc.html())
    log.info("report: %s (%d figures)", page, len(figures))
    return [md, page, *figures]
