"""The report's figures: per-method transfer heatmaps and gain-with-CI plots (matplotlib, Agg)."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

log = logging.getLogger(__name__)

from benchmark.analysis.formats import MINUS, fmt_num, fmt_points, isnan, source_label  # noqa: E402
from benchmark.files import atomic_write_bytes  # noqa: E402

_POSITIVE_COLOUR = "#2166ac"
_NEGATIVE_COLOUR = "#b2182b"
_EQUIVALENT_COLOUR = "#1b7837"
_NEUTRAL_COLOUR = "#9a9a9a"
_MISSING_COLOUR = "#bdbdbd"
_FADE = 0.22  # share of the gain's colour kept by an undecided cell
VERDICT_MARKS = {"positive": "+", "negative": MINUS, "equivalent": "\u2248"}


def slug(*parts: str) -> str:
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


def gain_limit(transfer: pd.DataFrame) -> float:
    """One colour scale (± accuracy points) for every heatmap of a suite: the largest |gain|."""
    finite = np.abs(transfer["gain"].to_numpy(dtype=float) * 100)
    finite = finite[np.isfinite(finite)]
    return max(float(finite.max()) if finite.size else 0.0, 1.0)


def heatmap_figure(rows: pd.DataFrame, *, method: str, suite: str, path: Path, limit: float,
                   reference: str) -> Path:
    """Source x target heatmap of one method's gains (rows of transfer_matrix.csv).

    The verdict drives the picture: decided pairs (positive / negative) in full colour on the
    suite's shared scale ``limit``, equivalent pairs green-outlined with ≈, undecided pairs
    faded toward white with their gain in grey, pairs without a paired seed grey.
    """
    sources = sorted(rows["source"].astype(str).unique())
    targets = sorted(rows["target"].astype(str).unique())
    width = max(4.5, 0.95 * len(targets) + 2.8)
    height = max(2.6, 0.62 * len(sources) + 1.9)
    fig, ax = plt.subplots(figsize=(width, height))
    cmap = plt.get_cmap("RdBu")
    norm = TwoSlopeNorm(vmin=-limit, vcenter=0.0, vmax=limit)
    rgba = np.ones((len(sources), len(targets), 4))
    for r in rows.itertuples(index=False):
        i, j = sources.index(str(r.source)), targets.index(str(r.target))
        if r.verdict == "missing" or isnan(r.gain):
            continue
        colour = np.asarray(cmap(norm(float(r.gain) * 100)))
        if r.verdict not in ("positive", "negative"):  # not decided: keep only a trace of colour
            colour = 1.0 - _FADE * (1.0 - colour)
            colour[3] = 1.0
        rgba[i, j] = colour
    image = ax.imshow(rgba, aspect="auto")
    image.set_cmap(cmap)
    for r in rows.itertuples(index=False):
        i, j = sources.index(str(r.source)), targets.index(str(r.target))
        if r.verdict == "missing":
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_MISSING_COLOUR,
                                   edgecolor="white", linewidth=1.0))
            ax.text(j, i, "missing", ha="center", va="center", fontsize=7, color="#333333")
            continue
        value = float(r.gain) * 100
        decided = r.verdict in ("positive", "negative")
        marker = VERDICT_MARKS.get(str(r.verdict), "")
        if r.verdict == "negative":
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                   edgecolor="black", linewidth=1.2))
        elif r.verdict == "positive":
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False,
                                   edgecolor="black", linewidth=1.5))
        elif r.verdict == "equivalent":
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False,
                                   edgecolor=_EQUIVALENT_COLOUR, linewidth=1.5))
        text_colour = ("white" if abs(value) > 0.6 * limit else "black") if decided else \
            (_EQUIVALENT_COLOUR if r.verdict == "equivalent" else "#8a8a8a")
        label = fmt_points(value / 100.0) + (f"\n{marker}" if marker else "")
        ax.text(j, i, label, ha="center", va="center", fontsize=8, color=text_colour,
                fontweight="bold" if marker else "normal")
    ax.set_xticks(range(len(targets)), targets, rotation=35, ha="right")
    ax.set_yticks(range(len(sources)), [source_label(s) for s in sources])
    ax.set_xlabel("target task")
    ax.set_ylabel("source task")
    ax.set_title(f"{method} vs {reference} ({suite}): transfer gain", fontsize=10)
    scale = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(scale, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("gain (accuracy points; faded = undecided)")
    return _savefig(fig, path)


def gain_figure(rows: pd.DataFrame, *, method: str, suite: str, path: Path, reference: str) -> Path:
    """Gain with its 95% CI per pair (one line per source→target), coloured by verdict."""
    tested = rows[rows["verdict"] != "missing"].copy()
    missing = rows[rows["verdict"] == "missing"]
    tested = tested.sort_values(["budget", "gain", "source", "target"], kind="stable")
    several = rows["budget"].nunique() > 1

    def label(r: Any) -> str:
        return f"{source_label(str(r.source))} \u2192 {r.target}" + (f" @{int(r.budget)}" if several else "")

    labels = [label(r) for r in tested.itertuples(index=False)]
    labels += [f"{label(r)} (missing)" for r in missing.itertuples(index=False)]
    n = max(1, len(labels))
    fig, ax = plt.subplots(figsize=(7.0, max(2.2, 0.34 * n + 1.3)))
    y = np.arange(len(tested))
    gains = tested["gain"].to_numpy(dtype=float) * 100
    low = tested["ci_low"].to_numpy(dtype=float) * 100
    high = tested["ci_high"].to_numpy(dtype=float) * 100
    mde = tested["mde"].to_numpy(dtype=float) * 100
    margin = float(tested["margin"].iloc[0]) * 100 if len(tested) else 1.0
    colours = [{"positive": _POSITIVE_COLOUR, "negative": _NEGATIVE_COLOUR,
                "equivalent": _EQUIVALENT_COLOUR}.get(v, _NEUTRAL_COLOUR) for v in tested["verdict"]]
    ax.axvspan(-margin, margin, color=_EQUIVALENT_COLOUR, alpha=0.08, linewidth=0)
    for k in range(len(tested)):
        ax.errorbar(gains[k], y[k], xerr=[[gains[k] - low[k]], [high[k] - gains[k]]], fmt="o",
                    color=colours[k], ecolor=colours[k], capsize=3, markersize=5)
    right = float(np.nanmax(np.abs(np.concatenate([low, high, [margin]])))) * 1.05 if len(tested) else 1.0
    for k in range(len(tested)):  # what this pair could have detected, beside what it measured
        ax.text(right, y[k], f"MDE {fmt_num(mde[k], 1)}", ha="left", va="center", fontsize=7, color="#555555")
    for k in range(len(missing)):
        ax.text(0.0, len(tested) + k, "no paired seed", ha="center", va="center", fontsize=8,
                color="#666666")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.invert_yaxis()
    ax.set_xlim(-right, right)
    ax.set_xlabel(f"gain vs {reference} (accuracy points, 95% CI; green band = ±margin)")
    ax.set_title(f"{method} ({suite}): blue positive, red negative, green equivalent, grey inconclusive",
                 fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return _savefig(fig, path)


def budget_figure(transfer: pd.DataFrame, leaderboard: pd.DataFrame, *, suite: str, path: Path,
                  reference: str) -> Path:
    """Gain against the target's train budget, one panel per method (real pairs of one suite).

    Thin lines: each source→target pair, markers filled where the verdict is decided and
    coloured by it; thick black line: the method's mean gain with its 95% CI (leaderboard.csv).
    """
    methods = sorted(m for m in transfer["method"].unique() if m != reference)
    budgets = sorted(int(b) for b in transfer["budget"].unique())
    fig, axes = plt.subplots(1, max(1, len(methods)), figsize=(3.1 * max(1, len(methods)) + 0.6, 3.4),
                             squeeze=False)  # own y scales: scratch's losses would flatten the rest
    colours = {"positive": _POSITIVE_COLOUR, "negative": _NEGATIVE_COLOUR, "equivalent": _EQUIVALENT_COLOUR}
    for ax, method in zip(axes[0], methods, strict=False):
        rows = transfer[(transfer["method"] == method) & (transfer["verdict"] != "missing")]
        for (_source, _target), pair in rows.groupby(["source", "target"], sort=True):
            pair = pair.sort_values("budget")
            ax.plot(pair["budget"].astype(float), pair["gain"].astype(float) * 100, color="#b0b0b0",
                    linewidth=0.8, zorder=1)
            for r in pair.itertuples(index=False):
                colour = colours.get(str(r.verdict), _NEUTRAL_COLOUR)
                ax.scatter([float(r.budget)], [float(r.gain) * 100], s=18, zorder=2, edgecolors=colour,
                           facecolors=colour if r.verdict in colours else "white", linewidths=1.0)
        mean = leaderboard[leaderboard["method"] == method].sort_values("budget")
        if len(mean):
            x = mean["budget"].astype(float).to_numpy()
            y = mean["mean_gain"].astype(float).to_numpy() * 100
            low = mean["mean_gain_ci_low"].astype(float).to_numpy() * 100
            high = mean["mean_gain_ci_high"].astype(float).to_numpy() * 100
            ax.fill_between(x, low, high, color="black", alpha=0.12, linewidth=0)
            ax.plot(x, y, color="black", linewidth=2.0, marker="o", markersize=4, zorder=3)
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_xscale("log")
        ax.set_xticks(budgets, [str(b) for b in budgets])
        ax.minorticks_off()
        ax.set_title(method, fontsize=9)
        ax.set_xlabel("target training examples")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"gain vs {reference} (points; own scale per panel)")
    fig.suptitle(f"{suite}: gain against budget (thick: mean with 95% CI; filled: decided)", fontsize=9)
    return _savefig(fig, path)


# --------------------------------------------------------------------------- sections




def transferability_figure(scores: pd.DataFrame, ranking: pd.DataFrame, *, suite: str, path: Path) -> Path:
    """One panel per estimator (ranking order): per (target, budget), its sources' scores
    (min-max scaled within the group, so groups share an axis) against the judge's gain; a line
    joins a group's sources, blue when the higher score goes with the higher gain (τ > 0), red
    when reversed, grey when undefined."""
    estimators = list(ranking.sort_values("rank")["estimator"]) or list(scores["estimator"].unique())
    cols = min(3, len(estimators))
    rows_n = math.ceil(len(estimators) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.6 * cols, 3.0 * rows_n), squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, estimators, strict=False):
        mine = scores[scores["estimator"] == name]
        for _, group in mine.groupby(["target", "budget"], sort=True):
            group = group.dropna(subset=["score", "judge_gain"]).sort_values("score")
            if len(group) < 2:
                continue
            span = group["score"].max() - group["score"].min()
            x = (group["score"] - group["score"].min()) / span if span > 0 else np.full(len(group), 0.5)
            tau = group["kendall_tau"].iloc[0]
            colour = _NEUTRAL_COLOUR if isnan(tau) else _POSITIVE_COLOUR if tau > 0 else _NEGATIVE_COLOUR
            ax.plot(x, 100 * group["judge_gain"], "-o", color=colour, lw=1.2, ms=3.5, alpha=0.8)
        mean = ranking.loc[ranking["estimator"] == name, "mean_kendall_tau"]
        tau_text = fmt_num(mean.iloc[0]) if len(mean) else "–"
        ax.set_title(f"{name}: mean τ {tau_text}", fontsize=9)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks([0, 1], ["lowest score", "highest"], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.flat[len(estimators):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("judge gain (points)", fontsize=8)
    fig.suptitle(f"Does the score order the sources like the gain? ({suite})", fontsize=10)
    fig.tight_layout()
    return _savefig(fig, path)
