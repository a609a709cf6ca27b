"""Leaderboards: tidy CSVs computed from the run store alone (BRIEF sections 4 and 5).

``build_leaderboards(results_dir)`` reads every run under ``<results>/runs`` (all suites),
computes accuracies, transfer gains against ``target_only``, paired significance tests,
multiple-comparison adjustments, verdicts and per-method aggregates with
:mod:`benchmark.stats`, and writes five CSVs to ``<results>/leaderboards/``:

- ``per_task.csv``: one row per (suite, method, source, target): accuracy over seeds.
- ``transfer_matrix.csv``: one row per (suite, method, source, target) of every method
  except the reference: gain, CI, p, adjusted p, verdict.
- ``negative_transfer.csv``: the rows of the transfer matrix judged negative.
- ``significance.csv``: one row per test run (bootstrap, sign flip, McNemar per seed,
  Wilcoxon), with the family it was adjusted in.
- ``leaderboard.csv``: one row per (suite, method): aggregates over pairs with CIs, rank.

Every column is documented in the README, section "Leaderboard CSV columns" (the column tuples below are the
source of truth; a test checks that the document and the files agree).

Design decisions (also in the docs):

- **Suites** are never mixed: every CSV has a ``suite`` column and every statistic, family
  and rank is computed inside one suite.
- **Pairing**: a comparison of method M (source S) with ``target_only`` on target T uses
  only the seeds where both runs are ok, and aligns test examples by ``id`` (never by row
  order); examples missing from any of those runs are dropped (with a warning).
- **Families**: p-values are adjusted together per (suite, test): all hierarchical-bootstrap
  p-values of a suite form one family (every method and pair), all sign-flip p-values
  another, all per-seed McNemar p-values another, all Wilcoxon p-values another. The
  verdict uses the adjusted hierarchical-bootstrap p-value.
- **Random numbers**: each bootstrap / permutation gets its own generator seeded from
  ``seed`` and a hash of (suite, method, source, target, test), so the numbers for one pair
  do not change when other pairs or methods are added, and reruns are byte-identical.
- **Missing data**: a planned run without results is *missing*, a run whose ``run.json``
  says failed is *failed*; both are counted in ``n_failed`` / ``n_missing`` columns, and a
  pair with no paired seed keeps its row with empty statistics and verdict ``missing``.
- **Rank** (leaderboard): methods are ordered by ``mean_rank`` (average rank of the
  method's accuracy per target, rank 1 = best, ties averaged), then by higher
  ``mean_gain``, then by name; ``rank`` is the 1-based position in that order.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark import stats
from benchmark.errors import BenchmarkError, ConfigError
from benchmark.run_store import (
    NO_SOURCE,
    REFERENCE_METHOD,
    RUNS_DIRNAME,
    RunKey,
    RunRecord,
    atomic_write_text,
    scan_runs,
)

log = logging.getLogger(__name__)

LEADERBOARDS_DIRNAME = "leaderboards"
CONFIDENCE = 0.95
MISSING = "missing"
"""Verdict of a pair that has no paired seed (nothing could be tested)."""

TEST_BOOTSTRAP = "hierarchical_bootstrap"
TEST_SIGN_FLIP = "sign_flip"
TEST_MCNEMAR = "mcnemar"
TEST_WILCOXON = "wilcoxon"
TESTS = (TEST_BOOTSTRAP, TEST_SIGN_FLIP, TEST_MCNEMAR, TEST_WILCOXON)

PER_TASK_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "target", "metric", "synthetic",
    "n_runs", "n_seeds", "n_failed", "n_missing", "n_examples",
    "accuracy_mean", "accuracy_std", "accuracy_ci_low", "accuracy_ci_high",
    "macro_f1_mean", "wall_seconds_mean", "examples_processed_mean",
)
TRANSFER_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "target",
    "n_seeds", "n_examples", "n_failed", "n_missing",
    "method_accuracy", "reference_accuracy", "gain", "relative_gain", "ci_low", "ci_high",
    "p_value", "p_adj", "correction", "alpha", "verdict", "ntg",
)
NEGATIVE_COLUMNS: tuple[str, ...] = TRANSFER_COLUMNS
SIGNIFICANCE_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "target", "test", "seed", "n_seeds", "n_examples",
    "statistic", "n_method_only", "n_ref_only", "n_resamples",
    "p_value", "p_adj", "correction", "family",
)
LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "suite", "rank", "method", "reference", "n_pairs", "n_pairs_missing",
    "mean_gain", "mean_gain_ci_low", "mean_gain_ci_high",
    "iqm_gain", "iqm_gain_ci_low", "iqm_gain_ci_high",
    "probability_of_improvement", "wins", "ties", "losses", "negative_transfer_rate",
    "mean_rank", "mean_accuracy", "n_runs", "n_failed", "n_missing",
    "wall_seconds_mean", "examples_processed_mean",
)

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "leaderboard.csv": LEADERBOARD_COLUMNS,
    "per_task.csv": PER_TASK_COLUMNS,
    "transfer_matrix.csv": TRANSFER_COLUMNS,
    "negative_transfer.csv": NEGATIVE_COLUMNS,
    "significance.csv": SIGNIFICANCE_COLUMNS,
}
"""Every CSV the builder writes and its columns, in file order."""

FLOAT_FORMAT = "%.6g"
_INT_COLUMNS = {
    "n_runs", "n_seeds", "n_failed", "n_missing", "n_examples", "rank", "n_pairs",
    "n_pairs_missing", "wins", "ties", "losses", "seed", "n_method_only", "n_ref_only",
    "n_resamples",
}
_BOOL_COLUMNS = {"synthetic", "reference"}


# --------------------------------------------------------------------------- run data


@dataclass(frozen=True)
class _RunData:
    """The per-example results of one ok run, sorted by id."""

    ids: npt.NDArray[np.str_]
    correct: npt.NDArray[np.bool_]
    accuracy: float
    macro_f1: float
    wall_seconds: float
    examples_processed: float


@dataclass
class _Pair:
    """What one (method, source) vs reference comparison on a target produced."""

    acc_method: npt.NDArray[np.float64]
    acc_ref: npt.NDArray[np.float64]


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _load_run(record: RunRecord) -> _RunData:
    frame = record.predictions(columns=["label", "prediction", "correct"])
    if frame["id"].duplicated().any():
        log.warning("run %s has duplicate example ids; keeping the first of each", record.path)
        frame = frame.drop_duplicates("id", keep="first").reset_index(drop=True)
    if len(frame) == 0:
        raise ValueError("predictions.parquet has no rows")
    ids = frame["id"].to_numpy(dtype=str)
    order = np.argsort(ids, kind="stable")  # numpy's order, which searchsorted relies on
    ids = ids[order]
    correct = frame["correct"].to_numpy(dtype=bool)[order]
    label = frame["label"].to_numpy()[order]
    prediction = frame["prediction"].to_numpy()[order]
    timings = record.manifest.get("timings") or {}
    return _RunData(
        ids=ids,
        correct=correct,
        accuracy=float(np.mean(correct)),
        macro_f1=stats.macro_f1(label, prediction),
        wall_seconds=_float(timings.get("wall_seconds")),
        examples_processed=_float(record.manifest.get("examples_processed")),
    )


class _Store:
    """Run records grouped by (suite, target, method, source), with loaded predictions."""

    def __init__(self, records: Sequence[RunRecord]) -> None:
        self.status: dict[RunKey, str] = {}
        self.records: dict[RunKey, RunRecord] = {}
        self.data: dict[RunKey, _RunData] = {}
        self.groups: dict[tuple[str, str, str, str], list[RunKey]] = defaultdict(list)
        for record in records:
            key = record.key
            status = record.status
            if status == "ok":
                try:
                    self.data[key] = _load_run(record)
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("counting run %s as failed: unreadable predictions (%s)",
                                record.path, exc)
                    status = "failed"
            self.status[key] = status
            self.records[key] = record
            self.groups[(key.suite, key.target, key.method, key.source)].append(key)

    def keys(self, suite: str, target: str, method: str, source: str) -> list[RunKey]:
        return sorted(self.groups.get((suite, target, method, source), []))

    def seed_status(self, suite: str, target: str, method: str, source: str) -> dict[int, str]:
        return {k.seed: self.status[k] for k in self.keys(suite, target, method, source)}


def _aligned(runs: Sequence[_RunData], what: str) -> tuple[npt.NDArray[np.str_],
                                                            npt.NDArray[np.bool_]]:
    """Correctness of several runs on their common example ids. Shape (len(runs), N)."""
    common = runs[0].ids
    if all(np.array_equal(run.ids, common) for run in runs[1:]):  # the usual case
        return common, np.vstack([run.correct for run in runs])
    for run in runs[1:]:
        common = np.intersect1d(common, run.ids, assume_unique=True)
    log.warning("%s: runs cover different test examples; using the %d ids they share",
                what, common.size)
    rows = []
    for run in runs:
        idx = np.searchsorted(run.ids, common)
        rows.append(run.correct[idx])
    matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=bool)
    return common, matrix


def _rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and a stable hash of ``parts`` (order-independent of
    other pairs, identical across runs and platforms)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=words))


# --------------------------------------------------------------------------- tables


def _per_task_table(store: _Store, *, n_resamples: int, seed: int) -> pd.DataFrame:
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
            _, matrix = _aligned(runs, f"{suite}/{target}/{method}/{source}")
            row["n_examples"] = int(matrix.shape[1])
            row["accuracy_mean"] = float(np.mean(accs))
            row["accuracy_std"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else math.nan
            if matrix.shape[1] > 0:
                boot = stats.hierarchical_bootstrap(
                    matrix, np.zeros_like(matrix),
                    rng=_rng(seed, suite, method, source, target, "accuracy"),
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
    return _frame(rows, PER_TASK_COLUMNS)


def _comparisons(store: _Store) -> list[tuple[str, str, str, str]]:
    """Every (suite, method, source, target) compared with the reference, sorted."""
    out = {
        (suite, method, source, target)
        for (suite, target, method, source) in store.groups
        if not (method == REFERENCE_METHOD and source == NO_SOURCE)
    }
    return sorted(out)


def _transfer_and_significance(
    store: _Store, *, alpha: float, correction: str, n_resamples: int, seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, str, str, str], _Pair]]:
    transfer_rows: list[dict[str, object]] = []
    sig_rows: list[dict[str, object]] = []
    pairs: dict[tuple[str, str, str, str], _Pair] = {}
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
        m_runs = [store.data[RunKey(suite, target, method, source, s)] for s in paired]
        r_runs = [store.data[RunKey(suite, target, REFERENCE_METHOD, NO_SOURCE, s)]
                  for s in paired]
        _, matrix = _aligned(m_runs + r_runs, f"{suite}/{target}/{method}/{source} vs "
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
        pairs[(suite, method, source, target)] = _Pair(acc_m, acc_r)
        gain = stats.transfer_gain(acc_m, acc_r)
        try:
            rel = stats.relative_gain(acc_m, acc_r)
        except ValueError:
            rel = math.nan
        boot = stats.hierarchical_bootstrap(
            cm, cr, rng=_rng(seed, suite, method, source, target, TEST_BOOTSTRAP),
            n_resamples=n_resamples, confidence=CONFIDENCE,
        )
        row.update({
            "n_seeds": s_count, "n_examples": n_examples,
            "method_accuracy": float(np.mean(acc_m)), "reference_accuracy": float(np.mean(acc_r)),
            "gain": gain, "relative_gain": rel, "ci_low": boot.ci_low, "ci_high": boot.ci_high,
            "p_value": boot.p_value, "ntg": stats.negative_transfer_gap(gain),
        })
        common = {**ident, "n_seeds": s_count, "n_examples": n_examples,
                  "correction": correction}
        sig_rows.append({**common, "test": TEST_BOOTSTRAP, "statistic": boot.estimate,
                         "n_resamples": boot.n_resamples, "p_value": boot.p_value})
        flip = stats.sign_flip_test(
            cm, cr, rng=_rng(seed, suite, method, source, target, TEST_SIGN_FLIP),
            n_permutations=n_resamples,
        )
        sig_rows.append({**common, "test": TEST_SIGN_FLIP, "statistic": flip.statistic,
                         "n_resamples": flip.n_permutations, "p_value": flip.p_value})
        for s, res in zip(paired, stats.mcnemar_per_seed(cm, cr), strict=True):
            sig_rows.append({
                **common, "test": TEST_MCNEMAR, "seed": s, "n_seeds": 1,
                "statistic": (res.n_method_only - res.n_ref_only) / n_examples,
                "n_method_only": res.n_method_only, "n_ref_only": res.n_ref_only,
                "p_value": res.p_value,
            })
        wil = stats.wilcoxon_seeds(acc_m, acc_r)
        if wil is not None:
            sig_rows.append({**common, "test": TEST_WILCOXON, "statistic": wil.statistic,
                             "p_value": wil.p_value})

    sig = _frame(sig_rows, SIGNIFICANCE_COLUMNS)
    sig["family"] = sig["suite"].astype(str) + "/" + sig["test"].astype(str)
    sig["p_adj"] = np.nan
    for _family, index in sig.groupby("family", sort=True).groups.items():
        sig.loc[index, "p_adj"] = stats.adjust_pvalues(
            sig.loc[index, "p_value"].to_numpy(dtype=float), correction)
    sig = _sort(sig, ["suite", "method", "source", "target", "test", "seed"],
                SIGNIFICANCE_COLUMNS)

    transfer = _frame(transfer_rows, TRANSFER_COLUMNS)
    boot_rows = sig[sig["test"] == TEST_BOOTSTRAP].set_index(
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
    transfer = _sort(transfer, ["suite", "method", "source", "target"], TRANSFER_COLUMNS)
    return transfer, sig, pairs


def _fast_mean_of_means(sizes: Sequence[int]) -> Callable[[list[npt.NDArray[np.float64]]],
                                                          float]:
    """``stats.mean_of_means`` for strata of fixed sizes, as one dot product (same value)."""
    weights = np.concatenate([np.full(n, 1.0 / (n * len(sizes))) for n in sizes])

    def statistic(strata: list[npt.NDArray[np.float64]]) -> float:
        return float(np.concatenate(strata) @ weights)

    return statistic


def _fast_iqm(strata: list[npt.NDArray[np.float64]]) -> float:
    """``stats.iqm`` of the pooled scores (scipy ``trim_mean(x, 0.25)``) without scipy's
    per-call overhead, for use inside a bootstrap loop. Same value as ``stats.iqm``."""
    x = np.sort(np.concatenate(strata))
    cut = int(0.25 * x.size)
    return float(np.mean(x[cut:x.size - cut]))


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


def _leaderboard_table(
    per_task: pd.DataFrame,
    transfer: pd.DataFrame,
    pairs: dict[tuple[str, str, str, str], _Pair],
    store: _Store,
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
                    gains, _fast_mean_of_means([g.size for g in gains]),
                    rng=_rng(seed, suite, method, "mean_gain"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row.update(mean_gain=est, mean_gain_ci_low=lo, mean_gain_ci_high=hi)
                est, lo, hi = stats.stratified_bootstrap_ci(
                    gains, _fast_iqm, rng=_rng(seed, suite, method, "iqm_gain"),
                    n_resamples=n_resamples, confidence=CONFIDENCE,
                )
                row.update(iqm_gain=est, iqm_gain_ci_low=lo, iqm_gain_ci_high=hi)
                row["probability_of_improvement"] = stats.probability_of_improvement(
                    [p.acc_method for p in data], [p.acc_ref for p in data])
                wins, ties, losses = stats.win_tie_loss(tested["verdict"].to_numpy(dtype=str))
                row.update(wins=wins, ties=ties, losses=losses,
                           negative_transfer_rate=losses / len(tested))
            rows.append(row)
    table = _frame(rows, LEADERBOARD_COLUMNS)
    if table.empty:
        return table
    order = table.assign(
        _rank_key=table["mean_rank"].fillna(np.inf),
        _gain_key=-table["mean_gain"].fillna(-np.inf),
    ).sort_values(["suite", "_rank_key", "_gain_key", "method"], kind="stable")
    order["rank"] = order.groupby("suite").cumcount() + 1
    return _frame(order.to_dict("records"), LEADERBOARD_COLUMNS)


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr)) if arr.size and not np.all(np.isnan(arr)) else math.nan


# --------------------------------------------------------------------------- frames & I/O


def _frame(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (absent values NaN) and stable dtypes."""
    frame = pd.DataFrame(list(rows), columns=list(columns))
    for col in columns:
        if col in _INT_COLUMNS:
            frame[col] = pd.array(pd.to_numeric(frame[col]), dtype="Int64")
        elif col in _BOOL_COLUMNS:
            frame[col] = frame[col].astype(bool)
    return frame


def _sort(frame: pd.DataFrame, by: list[str], columns: Sequence[str]) -> pd.DataFrame:
    return frame.sort_values(by, kind="stable", na_position="first").reset_index(drop=True)[
        list(columns)]


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of a table: no index, ``%.6g`` floats, empty cells for NaN, ``\\n`` ends.

    ``-0`` is normalised to ``0`` so equal numbers always print the same.
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype):
            out[col] = out[col] + 0.0
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, float_format=FLOAT_FORMAT, na_rep="", lineterminator="\n")
    return buffer.getvalue()


@dataclass(frozen=True)
class Leaderboards:
    """The five leaderboard tables, as written to CSV."""

    leaderboard: pd.DataFrame
    per_task: pd.DataFrame
    transfer_matrix: pd.DataFrame
    negative_transfer: pd.DataFrame
    significance: pd.DataFrame

    def files(self) -> dict[str, pd.DataFrame]:
        """File name -> table, in the order of :data:`CSV_COLUMNS`."""
        return {
            "leaderboard.csv": self.leaderboard,
            "per_task.csv": self.per_task,
            "transfer_matrix.csv": self.transfer_matrix,
            "negative_transfer.csv": self.negative_transfer,
            "significance.csv": self.significance,
        }


def _check_options(alpha: float, correction: str, n_resamples: int) -> str:
    if not (isinstance(alpha, int | float) and 0.0 < float(alpha) < 1.0):
        raise ConfigError(f"--alpha must be a number strictly between 0 and 1, got {alpha!r}")
    name = str(correction).strip().lower()
    if name not in stats.CORRECTIONS:
        raise ConfigError(f"unknown correction {correction!r}; choose one of "
                          f"{', '.join(stats.CORRECTIONS)}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ConfigError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    return name


def compute_leaderboards(
    records: Sequence[RunRecord],
    *,
    alpha: float = 0.05,
    correction: str = "holm",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Leaderboards:
    """Compute every leaderboard table from run records (see :func:`run_store.scan_runs`)."""
    correction = _check_options(alpha, correction, n_resamples)
    store = _Store(records)
    per_task = _sort(_per_task_table(store, n_resamples=n_resamples, seed=seed),
                     ["suite", "method", "source", "target"], PER_TASK_COLUMNS)
    transfer, significance, pairs = _transfer_and_significance(
        store, alpha=float(alpha), correction=correction, n_resamples=n_resamples, seed=seed)
    negative = transfer[transfer["verdict"] == stats.NEGATIVE].assign(
        _ntg=lambda f: -f["ntg"].astype(float))
    negative = negative.sort_values(["suite", "_ntg", "method", "source", "target"],
                                    kind="stable").reset_index(drop=True)[list(NEGATIVE_COLUMNS)]
    leaderboard = _leaderboard_table(per_task, transfer, pairs, store,
                                     n_resamples=n_resamples, seed=seed)
    return Leaderboards(leaderboard, per_task, transfer, negative, significance)


def leaderboards_dir(results_dir: str | os.PathLike[str]) -> Path:
    """``<results>/leaderboards``."""
    return Path(results_dir) / LEADERBOARDS_DIRNAME


def build_leaderboards(
    results_dir: str | os.PathLike[str],
    *,
    alpha: float = 0.05,
    correction: str = "holm",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> list[Path]:
    """Rebuild ``<results>/leaderboards/*.csv`` from ``<results>/runs`` (every suite).

    Deterministic: the same runs and options give byte-identical files. Each file is
    written atomically. Returns the written paths (in :data:`CSV_COLUMNS` order).

    Raises :class:`BenchmarkError` when there is no ``runs`` folder, and
    :class:`ConfigError` for a bad ``alpha`` / ``correction`` / ``n_resamples``.
    """
    results = Path(results_dir)
    runs = results / RUNS_DIRNAME
    if not runs.is_dir():
        raise BenchmarkError(
            f"no runs under {runs}; run 'python -m benchmark run' first or pass --results DIR")
    records = scan_runs(results)
    if not records:
        log.warning("no runs found under %s; writing empty leaderboards", runs)
    tables = compute_leaderboards(records, alpha=alpha, correction=correction,
                                  n_resamples=n_resamples, seed=seed)
    out_dir = leaderboards_dir(results)
    written = []
    for name, frame in tables.files().items():
        written.append(atomic_write_text(out_dir / name, csv_text(frame)))
    n_neg = len(tables.negative_transfer)
    log.info("leaderboards: %d runs, %d pairs (%d negative) -> %s", len(records),
             len(tables.transfer_matrix), n_neg, out_dir)
    return written
