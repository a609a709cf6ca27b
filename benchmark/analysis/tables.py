"""The leaderboard tables, computed from loaded run results with :mod:`benchmark.analysis.stats`."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.collect import PairAccuracies, RunResults, aligned, pair_rng
from benchmark.analysis.schema import (
    CONFIDENCE,
    LEADERBOARD_COLUMNS,
    MISSING,
    PER_TASK_COLUMNS,
    SIGNIFICANCE_COLUMNS,
    TRANSFER_COLUMNS,
    frame,
    sort_rows,
)
from benchmark.analysis.significance import PAIRED_TESTS, PairSample, TestSettings
from benchmark.analysis.stats import aggregate as stats_agg
from benchmark.runs.store import NO_SOURCE, REFERENCE_METHOD, RunId

log = logging.getLogger(__name__)

VERDICT_TEST = PAIRED_TESTS[0][0]


def per_task_table(store: RunResults, *, n_resamples: int, seed: int) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for suite, target, method, source in sorted(store.groups):
        keys = store.keys(suite, target, method, source)
        statuses = [store.status[k] for k in keys]
        ok = [k for k in keys if store.status[k] == "ok"]
        runs = [store.data[k] for k in ok]
        manifests = [store.records[k].manifest for k in keys if store.records[k].manifest]
        metric = next((str(m.get("primary_metric") or m.get("metric")) for m in manifests
                       if m.get("primary_metric") or m.get("metric")), "accuracy")
        synthetic = any(bool(m.get("synthetic")) for m in manifests)
        row: dict[str, object] = {
            "suite": suite, "method": method, "source": source, "target": target,
            "metric": metric, "synthetic": synthetic,
            "n_runs": len(keys), "n_seeds": len(ok),
            "n_failed": statuses.count("failed"), "n_missing": statuses.count("missing"),
        }
        if runs:
            accs = np.array([r.accuracy for r in runs])
            _, matrix = aligned(runs, f"{suite}/{target}/{method}/{source}")
            row["n_examples"] = int(matrix.shape[1])
            row["accuracy_mean"] = float(np.mean(accs))
            row["accuracy_std"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else math.nan
            if matrix.shape[1] > 0:
                boot = stats.hierarchical_bootstrap(
                    matrix, np.zeros_like(matrix),
                    rng=pair_rng(seed, suite, method, source, target, "accuracy"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row["accuracy_ci_low"], row["accuracy_ci_high"] = boot.ci_low, boot.ci_high
            row["macro_f1_mean"] = float(np.mean([r.macro_f1 for r in runs]))
            row["wall_seconds_mean"] = float(np.nanmean([r.wall_seconds for r in runs])) \
                if any(not math.isnan(r.wall_seconds) for r in runs) else math.nan
            row["examples_processed_mean"] = float(np.nanmean(
                [r.examples_processed for r in runs])) \
                if any(not math.isnan(r.examples_processed) for r in runs) else math.nan
        rows.append(row)
    return frame(rows, PER_TASK_COLUMNS)


def _comparisons(store: RunResults) -> list[tuple[str, str, str, str]]:
    """Every (suite, method, source, target) compared with the reference, sorted."""
    out = {
        (suite, method, source, target)
        for (suite, target, method, source) in store.groups
        if not (method == REFERENCE_METHOD and source == NO_SOURCE)
    }
    return sorted(out)


def transfer_and_significance(
    store: RunResults, *, alpha: float, correction: str, n_resamples: int, seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, str, str, str], PairAccuracies]]:
    transfer_rows: list[dict[str, object]] = []
    sig_rows: list[dict[str, object]] = []
    pairs: dict[tuple[str, str, str, str], PairAccuracies] = {}
    settings = TestSettings(n_resamples, seed)
    for suite, method, source, target in _comparisons(store):
        ident = {"suite": suite, "method": method, "source": source, "target": target}
        m_status = store.seed_status(suite, target, method, source)
        r_status = store.seed_status(suite, target, REFERENCE_METHOD, NO_SOURCE)
        # The comparison's seeds are the method's (planned or found); each needs its own run
        # and the reference run of the same seed. Extra reference seeds are not counted.
        seeds = sorted(m_status)
        both = [m_status[s] for s in seeds] + [r_status.get(s, MISSING) for s in seeds]
        paired = [s for s in seeds if m_status.get(s) == "ok" and r_status.get(s) == "ok"]
        row: dict[str, object] = {
            **ident, "n_seeds": 0, "n_examples": 0,
            "n_failed": both.count("failed"), "n_missing": both.count(MISSING),
            "correction": correction, "alpha": alpha,
        }
        transfer_rows.append(row)
        if not paired:
            continue
        m_runs = [store.data[RunId(suite, target, method, source, s)] for s in paired]
        r_runs = [store.data[RunId(suite, target, REFERENCE_METHOD, NO_SOURCE, s)]
                  for s in paired]
        _, matrix = aligned(m_runs + r_runs, f"{suite}/{target}/{method}/{source} vs "
                                              f"{REFERENCE_METHOD}")
        n_examples = int(matrix.shape[1])
        if n_examples == 0:
            log.warning("%s/%s/%s/%s: no test example is shared with %s; pair left missing",
                        suite, target, method, source, REFERENCE_METHOD)
            continue
        s_count = len(paired)
        cm, cr = matrix[:s_count], matrix[s_count:]
        acc_m = stats.accuracies_from_correct(cm)
        acc_r = stats.accuracies_from_correct(cr)
        pairs[(suite, method, source, target)] = PairAccuracies(acc_m, acc_r)
        gain = stats.transfer_gain(acc_m, acc_r)
        try:
            rel = stats.relative_gain(acc_m, acc_r)
        except ValueError:
            rel = math.nan
        sample = PairSample(suite, method, source, target, tuple(paired), cm, cr)
        for _name, test in PAIRED_TESTS:
            sig_rows.extend(test(sample, settings))
        verdict_row = next(r for r in sig_rows[::-1] if r["test"] == VERDICT_TEST)
        row.update({
            "n_seeds": s_count, "n_examples": n_examples,
            "method_accuracy": float(np.mean(acc_m)), "reference_accuracy": float(np.mean(acc_r)),
            "gain": gain, "relative_gain": rel, "ci_low": verdict_row["ci_low"], "ci_high": verdict_row["ci_high"],
            "p_value": verdict_row["p_value"], "ntg": stats.negative_transfer_gap(gain),
        })

    sig = frame([{**r, "correction": correction} for r in sig_rows], SIGNIFICANCE_COLUMNS)
    sig["family"] = sig["suite"].astype(str) + "/" + sig["test"].astype(str)
    sig["p_adj"] = np.nan
    for _family, index in sig.groupby("family", sort=True).groups.items():
        sig.loc[index, "p_adj"] = stats.adjust_pvalues(
            sig.loc[index, "p_value"].to_numpy(dtype=float), correction)
    sig = sort_rows(sig, ["suite", "method", "source", "target", "test", "seed"],
                SIGNIFICANCE_COLUMNS)

    transfer = frame(transfer_rows, TRANSFER_COLUMNS)
    boot_rows = sig[sig["test"] == VERDICT_TEST].set_index(
        ["suite", "method", "source", "target"])["p_adj"]
    keys = list(zip(transfer["suite"], transfer["method"], transfer["source"], transfer["target"],
                    strict=True))
    transfer["p_adj"] = [float(boot_rows.get(k, math.nan)) for k in keys]
    tested = transfer["n_seeds"].to_numpy() > 0
    verdict = np.full(len(transfer), MISSING, dtype=object)
    if tested.any():
        verdict[tested] = stats.verdicts(
            transfer.loc[tested, "gain"].to_numpy(dtype=float),
            transfer.loc[tested, "p_adj"].to_numpy(dtype=float), alpha,
        )
    transfer["verdict"] = verdict
    transfer = sort_rows(transfer, ["suite", "method", "source", "target"], TRANSFER_COLUMNS)
    return transfer, sig, pairs


def _accuracy_by_target(per_task: pd.DataFrame, suite: str) -> pd.DataFrame:
    """(method x target) accuracy of one suite: mean over the method's sources."""
    sub = per_task[per_task["suite"] == suite]
    return sub.pivot_table(index="method", columns="target", values="accuracy_mean",
                           aggfunc="mean", dropna=False, sort=True)


def _mean_ranks(per_task: pd.DataFrame, suite: str, methods: list[str]) -> dict[str, float]:
    """Mean rank of each method's accuracy over the targets it has runs for (planned/found).

    On each target the methods that have runs there are ranked by accuracy (rank 1 = best,
    ties averaged) with ``stats.mean_rank(nan_policy="worst")``: a method whose runs on that
    target all failed or are missing ranks below every method with a result. A method's
    mean rank is the mean of its ranks over those targets (NaN if it has none).
    """
    acc = _accuracy_by_target(per_task, suite)
    sub = per_task[per_task["suite"] == suite]
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
    pairs: dict[tuple[str, str, str, str], PairAccuracies],
    store: RunResults,
    *, n_resamples: int, seed: int,
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for suite in sorted(per_task["suite"].unique()):
        methods = sorted(per_task.loc[per_task["suite"] == suite, "method"].unique())
        ranks = _mean_ranks(per_task, suite, methods)
        acc = _accuracy_by_target(per_task, suite)
        for method in methods:
            own = per_task[(per_task["suite"] == suite) & (per_task["method"] == method)]
            tm = transfer[(transfer["suite"] == suite) & (transfer["method"] == method)]
            tested = tm[tm["n_seeds"] > 0]
            keys = [k for k in store.data if k.suite == suite and k.method == method]
            walls = [store.data[k].wall_seconds for k in keys]
            examples = [store.data[k].examples_processed for k in keys]
            row: dict[str, object] = {
                "suite": suite, "method": method,
                "reference": method == REFERENCE_METHOD,
                "n_pairs": len(tested), "n_pairs_missing": len(tm) - len(tested),
                "mean_rank": ranks[method],
                "mean_accuracy": float(np.nanmean(acc.loc[method].to_numpy(dtype=float)))
                if acc.loc[method].notna().any() else math.nan,
                "n_runs": int(own["n_runs"].sum()), "n_failed": int(own["n_failed"].sum()),
                "n_missing": int(own["n_missing"].sum()),
                "wall_seconds_mean": _nanmean(walls),
                "examples_processed_mean": _nanmean(examples),
                "wins": 0, "ties": 0, "losses": 0,
            }
            if len(tested):
                pair_keys = list(zip(tested["suite"], tested["method"], tested["source"],
                                     tested["target"], strict=True))
                data = [pairs[k] for k in pair_keys]
                gains = [p.acc_method - p.acc_ref for p in data]
                est, lo, hi = stats.stratified_bootstrap_ci(
                    gains, stats_agg.fast_mean_of_means([g.size for g in gains]),
                    rng=pair_rng(seed, suite, method, "mean_gain"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row.update(mean_gain=est, mean_gain_ci_low=lo, mean_gain_ci_high=hi)
                est, lo, hi = stats.stratified_bootstrap_ci(
                    gains, stats_agg.fast_iqm, rng=pair_rng(seed, suite, method, "iqm_gain"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row.update(iqm_gain=est, iqm_gain_ci_low=lo, iqm_gain_ci_high=hi)
                row["probability_of_improvement"] = stats.probability_of_improvement(
                    [p.acc_method for p in data], [p.acc_ref for p in data])
                wins, ties, losses = stats.win_tie_loss(tested["verdict"].to_numpy(dtype=str))
                row.update(wins=wins, ties=ties, losses=losses,
                           negative_transfer_rate=losses / len(tested))
            rows.append(row)
    table = frame(rows, LEADERBOARD_COLUMNS)
    if table.empty:
        return table
    order = table.assign(
        _rank_key=table["mean_rank"].fillna(np.inf),
        _gain_key=-table["mean_gain"].fillna(-np.inf),
    ).sort_values(["suite", "_rank_key", "_gain_key", "method"], kind="stable")
    order["rank"] = order.groupby("suite").cumcount() + 1
    return frame(order.to_dict("records"), LEADERBOARD_COLUMNS)


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr)) if arr.size and not np.all(np.isnan(arr)) else math.nan


