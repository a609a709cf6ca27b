"""Does a transferability estimator predict the measured transfer? ``transferability.csv``
and ``transferability_ranking.csv`` from the scored items (:mod:`benchmark.pipeline.transferability`)
and the runs' accuracies.

For each (suite, target, budget) the candidates are the target's real sources; an estimator's
score of a source is its mean over seeds, the measured transfer is the mean over the same
seeds of the suite's judge's gain over its reference (``finetune`` over ``target_only`` by
default; :mod:`benchmark.runs.roles`), seed by seed. Kendall τ-b and weighted τ
between the two, with a bootstrap over seeds, say whether the estimator orders the sources
as training would; the ranking averages τ over every (target, budget) of a suite.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.analysis.collect import RunResults
from benchmark.analysis.estimators import estimators
from benchmark.analysis.stats.transferability import mean_rank_agreement, rank_agreement
from benchmark.runs.layout import ResultsLayout

log = logging.getLogger(__name__)

N_BOOT = 2000
TAU_KEYS = ("kendall_tau", "kendall_tau_low", "kendall_tau_high", "weighted_tau", "weighted_tau_low",
            "weighted_tau_high")


def load_scores(results_dir: str | Path) -> list[dict[str, Any]]:
    """Every scored item under ``<results>/transferability`` (unreadable ones skipped, warned)."""
    out: list[dict[str, Any]] = []
    for path in sorted(ResultsLayout.of(results_dir).transferability.rglob("seed=*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            log.warning("skipping unreadable transferability item %s (%s)", path, exc)
    return out


def _seed_gains(runs: RunResults) -> dict[tuple[str, str, str, int, int], float]:
    """(suite, source, target, budget, seed) -> the judge's accuracy - the reference's (ok runs)."""
    reference = {(r.suite, r.target, r.budget, r.seed): data.accuracy for r, data in runs.data.items()
                 if r.method == runs.roles_of(r.suite).reference}
    return {(r.suite, r.source, r.target, r.budget, r.seed): data.accuracy - reference[key]
            for r, data in runs.data.items()
            if r.method == runs.roles_of(r.suite).judge and (key := (r.suite, r.target, r.budget, r.seed)) in reference}


def transferability_tables(runs: RunResults, items: Sequence[Mapping[str, Any]],
                           seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per pair, ranking) tables of every registered estimator (:mod:`benchmark.analysis.estimators`);
    columns :data:`TRANSFERABILITY` and :data:`TRANSFERABILITY_RANKING` of :mod:`benchmark.analysis.schema`."""
    from benchmark.analysis.schema import TRANSFERABILITY, TRANSFERABILITY_RANKING, sort_rows

    registered = estimators()
    gains = _seed_gains(runs)
    # (suite, target, budget) -> source -> seed -> scores (items of failed scoring are skipped)
    groups: dict[tuple[str, str, int], dict[str, dict[int, dict[str, float]]]] = {}
    for it in items:
        if it.get("error") is None:
            groups.setdefault((it["suite"], it["target"], int(it["budget"])), {}).setdefault(
                it["source"], {})[int(it["seed"])] = it["scores"]
    rows: list[dict[str, object]] = []
    per_estimator: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for (suite, target, budget), by_source in sorted(groups.items()):
        sources = sorted(by_source)
        seeds = sorted({s for src in sources for s in by_source[src]})
        gain = np.array([[gains.get((suite, src, target, budget, s), np.nan) for src in sources] for s in seeds])
        for name in registered:
            # 9 significant digits: a saturated estimator (e.g. H-score = C - 1 when N <= D)
            # gives equal scores up to rounding noise, a tie, not an order.
            score = np.array([[_value(by_source[src].get(s, {}), name) for src in sources] for s in seeds])
            score = np.vectorize(lambda v: float(f"{v:.9g}"), otypes=[float])(score)
            both = ~(np.isnan(score) | np.isnan(gain))
            score, gain_e = np.where(both, score, np.nan), np.where(both, gain, np.nan)
            usable = both.any(axis=0)
            group = (score[:, usable], gain_e[:, usable])
            rng = np.random.default_rng([seed, len(rows)])
            taus = rank_agreement(*group, rng, n_boot=N_BOOT) if usable.sum() >= 1 else {}
            if usable.sum() >= 2:
                per_estimator.setdefault((suite, name), []).append(group)
            for j, src in enumerate(sources):
                rows.append({"suite": suite, "target": target, "budget": budget, "source": src, "estimator": name,
                             "score": _mean(score[:, j]), "score_std": _std(score[:, j]),
                             "judge_gain": _mean(gain_e[:, j]), "n_seeds": int(both[:, j].sum()),
                             "n_sources": int(usable.sum()), **{k: taus.get(k, np.nan) for k in TAU_KEYS}})
    per_pair = sort_rows(TRANSFERABILITY.frame(rows), ["suite", "target", "budget", "estimator", "source"],
                         TRANSFERABILITY)
    ranking_rows: list[dict[str, object]] = []
    for (suite, name), pairs in sorted(per_estimator.items()):
        summary = mean_rank_agreement(pairs, np.random.default_rng([seed, 1_000_003, len(ranking_rows)]),
                                      n_boot=N_BOOT)
        ranking_rows.append({"suite": suite, "estimator": name, "description": registered[name].description,
                             "n_groups": summary["n_groups"], "n_pairs": summary["n_sources"],
                             **{f"mean_{k}": summary[k] for k in TAU_KEYS}})
    ranking = TRANSFERABILITY_RANKING.frame(ranking_rows)
    if len(ranking):
        ranking = ranking.assign(_key=-ranking["mean_kendall_tau"].astype(float)).sort_values(
            ["suite", "_key", "estimator"], kind="stable").drop(columns="_key").reset_index(drop=True)
        ranking["rank"] = pd.array(ranking.groupby("suite").cumcount() + 1, dtype="Int64")
    return per_pair, TRANSFERABILITY_RANKING.frame(ranking)  # derived columns see the rank


def _value(scores: dict[str, Any], name: str) -> float:
    value = scores.get(name)
    return float(value) if value is not None else np.nan


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else np.nan


def _std(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.std(ddof=1)) if x.size > 1 else np.nan
