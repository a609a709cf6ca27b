"""The leaderboard tables, computed from loaded run results with :mod:`benchmark.analysis.stats`."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.collect import RunResults, aligned, pair_rng
from benchmark.analysis.schema import (
    CONFIDENCE,
    LEADERBOARD,
    PER_TASK,
    control_rows,
    group_rows,
)
from benchmark.analysis.significance import PairSample
from benchmark.analysis.stats import aggregate as stats_agg
from benchmark.runs.store import PairKey, control_of

log = logging.getLogger(__name__)


def per_task_table(store: RunResults) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for pair in sorted(store.groups):
        suite, target, method, source, budget = pair.suite, pair.target, pair.method, pair.source, pair.budget
        keys = store.keys(pair)
        statuses = [store.status[k] for k in keys]
        ok = [k for k in keys if store.status[k] == "ok"]
        runs = [store.data[k] for k in ok]
        manifests = [m for m in (store.records[k].manifest for k in keys) if m is not None]
        metric = next((m.primary_metric for m in manifests if m.primary_metric), "accuracy")
        synthetic = any(bool(m.synthetic) for m in manifests)
        precision = "+".join(sorted({m.run_precision for k in ok if (m := store.records[k].manifest)}))
        if "+" in precision:
            log.warning("%s/%s/%s/%s/budget=%d mixes runs of precisions %s; rerun them at one precision "
                        "(run --precision P reruns every run of another precision)",
                        suite, target, method, source, budget, precision)
        row: dict[str, object] = {
            "suite": suite, "method": method, "source": source, "control": control_of(source),
            "target": target, "budget": budget, "metric": metric, "synthetic": synthetic,
            "precision": precision,
            "n_runs": len(keys), "n_seeds": len(ok),
            "n_failed": statuses.count("failed"), "n_missing": statuses.count("missing"),
        }
        if runs:
            _, matrix = aligned(runs, f"{suite}/{target}/{method}/{source}/budget={budget}")
            # On the shared ids, like the CI and the transfer matrix.
            accs = matrix.mean(axis=1) if matrix.shape[1] else np.array([r.accuracy for r in runs])
            row["n_examples"] = int(matrix.shape[1])
            row["accuracy_mean"] = float(np.mean(accs))
            row["accuracy_std"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else math.nan
            if matrix.shape[1] >= 2:
                interval = stats.crossed_mean_interval([matrix], [1.0], confidence=CONFIDENCE)
                row["accuracy_ci_low"], row["accuracy_ci_high"] = interval.ci_low, interval.ci_high
            row["macro_f1_mean"] = float(np.mean([r.macro_f1 for r in runs]))
            row["wall_seconds_mean"] = _nanmean([r.wall_seconds for r in runs])
            row["examples_processed_mean"] = _nanmean([r.examples_processed for r in runs])
        rows.append(row)
    return PER_TASK.frame(rows)


def _accuracy_by_target(per_task: pd.DataFrame) -> pd.DataFrame:
    """(method x target) accuracy of one (suite, budget)'s rows: mean over the method's sources."""
    sub = per_task
    return sub.pivot_table(index="method", columns="target", values="accuracy_mean",
                           aggfunc="mean", dropna=False, sort=True)


def _mean_ranks(per_task: pd.DataFrame, methods: list[str]) -> dict[str, float]:
    """Mean rank of each method's accuracy over the targets it has runs for (planned/found).

    On each target the methods that have runs there are ranked by accuracy (rank 1 = best,
    ties averaged) with ``stats.mean_rank(nan_policy="worst")``: a method whose runs on that
    target all failed or are missing ranks below every method with a result. A method's
    mean rank is the mean of its ranks over those targets (NaN if it has none).
    """
    acc = _accuracy_by_target(per_task)
    sub = per_task
    applicable: dict[str, set[str]] = defaultdict(set)
    for target, method in zip(sub["target"], sub["method"], strict=True):
        applicable[str(target)].add(str(method))
    ranks: dict[str, list[float]] = {m: [] for m in methods}
    for target in sorted(applicable):
        ranked = sorted(applicable[target])
        column = acc.loc[ranked, [target]].to_numpy(dtype=float)
        if np.all(np.isnan(column)):
            continue  # nobody has a result on this target: nothing to rank
        for method, rank in zip(ranked, stats.mean_rank(column, nan_policy="worst"),
                                strict=True):
            ranks[method].append(float(rank))
    return {m: float(np.mean(r)) if r else math.nan for m, r in ranks.items()}


def leaderboard_table(
    per_task: pd.DataFrame,
    transfer: pd.DataFrame,
    samples: dict[PairKey, PairSample],
    store: RunResults,
    *, n_resamples: int, seed: int,
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    # Controls show what the suite can see; they never rank methods. Groups ask another
    # question (group_scores.csv): the ranks stay over one-source pairs.
    per_task = per_task[~control_rows(per_task) & ~group_rows(per_task)]
    transfer = transfer[~control_rows(transfer) & ~group_rows(transfer)]
    # One leaderboard per (suite, budget): methods are ranked on the targets at one budget.
    for (suite, budget), cell in per_task.groupby(["suite", "budget"], sort=True):
        budget = int(budget)
        methods = sorted(cell["method"].unique())
        ranks = _mean_ranks(cell, methods)
        acc = _accuracy_by_target(cell)
        cell_transfer = transfer[(transfer["suite"] == suite) & (transfer["budget"] == budget)]
        for method in methods:
            own = cell[cell["method"] == method]
            tm = cell_transfer[cell_transfer["method"] == method]
            tested = tm[tm["n_seeds"] > 0]
            keys = [k for k in store.data if k.suite == suite and k.budget == budget and k.method == method
                    and not control_of(k.source)]
            walls = [store.data[k].wall_seconds for k in keys]
            examples = [store.data[k].examples_processed for k in keys]
            row: dict[str, object] = {
                "suite": suite, "budget": budget, "method": method,
                "reference": method == store.roles_of(suite).reference,
                "n_pairs": len(tested), "n_pairs_missing": len(tm) - len(tested),
                "mean_rank": ranks[method],
                "mean_accuracy": float(np.nanmean(acc.loc[method].to_numpy(dtype=float)))
                if acc.loc[method].notna().any() else math.nan,
                "n_runs": int(own["n_runs"].sum()), "n_failed": int(own["n_failed"].sum()),
                "n_missing": int(own["n_missing"].sum()),
                "wall_seconds_mean": _nanmean(walls),
                "examples_processed_mean": _nanmean(examples),
                "wins": 0, "ties": 0, "losses": 0, "inconclusive": 0,
            }
            if len(tested):
                pair_keys = [PairKey(str(s), str(m), str(src), str(t), int(b)) for s, m, src, t, b
                             in zip(tested["suite"], tested["method"], tested["source"], tested["target"],
                                    tested["budget"], strict=True)]
                tested_samples = [samples[k] for k in pair_keys]
                acc_m = [stats.accuracies_from_correct(p.correct_method) for p in tested_samples]
                acc_r = [stats.accuracies_from_correct(p.correct_ref) for p in tested_samples]
                gains = [m - r for m, r in zip(acc_m, acc_r, strict=True)]
                interval = mean_gain_interval(tested_samples)
                row.update(mean_gain=interval.estimate, mean_gain_ci_low=interval.ci_low,
                           mean_gain_ci_high=interval.ci_high)
                est, lo, hi = stats.stratified_bootstrap_ci(
                    gains, stats_agg.fast_iqm, rng=pair_rng(seed, suite, method, f"budget={budget}", "iqm_gain"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row.update(iqm_gain=est, iqm_gain_ci_low=lo, iqm_gain_ci_high=hi)
                row["probability_of_improvement"] = stats.probability_of_improvement(acc_m, acc_r)
                counts = stats.verdict_counts(tested["verdict"].to_numpy(dtype=str))
                row.update(wins=counts[stats.POSITIVE], ties=counts[stats.EQUIVALENT],
                           losses=counts[stats.NEGATIVE], inconclusive=counts[stats.INCONCLUSIVE],
                           negative_transfer_rate=counts[stats.NEGATIVE] / len(tested))
            rows.append(row)
    table = LEADERBOARD.frame(rows)
    if table.empty:
        return table
    order = table.assign(
        _rank_key=table["mean_rank"].fillna(np.inf),
        _gain_key=-table["mean_gain"].fillna(-np.inf),
    ).sort_values(["suite", "budget", "_rank_key", "_gain_key", "method"], kind="stable")
    order["rank"] = order.groupby(["suite", "budget"]).cumcount() + 1
    return LEADERBOARD.frame(order)  # derived columns see the rank


def mean_gain_interval(samples: Sequence[PairSample]) -> stats.MeanInterval:
    """Mean gain over a method's pairs with a CI that counts test-example noise and the reference
    runs shared by the pairs of one target: one crossed block per target, the sum of the pairs'
    d = correct_method - correct_ref over the seeds all of them share (see stats.pooled)."""
    by_target: dict[str, list[PairSample]] = defaultdict(list)
    for sample in samples:
        by_target[sample.target].append(sample)
    blocks: list[np.ndarray] = []
    for members in by_target.values():
        shared = sorted(set.intersection(*(set(m.seeds) for m in members)))
        if shared and len({m.n_examples for m in members}) == 1:
            block = sum(m.correct_method[[m.seeds.index(s) for s in shared]].astype(np.int64)
                        - m.correct_ref[[m.seeds.index(s) for s in shared]].astype(np.int64) for m in members)
            blocks.append(np.asarray(block))
        else:  # no common seed or different test ids: each pair on its own (rare; slightly narrower)
            blocks.extend(m.correct_method.astype(np.int64) - m.correct_ref.astype(np.int64) for m in members)
    return stats.crossed_mean_interval(blocks, [1.0 / len(samples)] * len(blocks), confidence=CONFIDENCE)


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr)) if arr.size and not np.all(np.isnan(arr)) else math.nan


