"""The leaderboard CSVs' schema: file names, columns in file order, dtypes and CSV formatting.

The column tuples are the source of truth; the README documents each column and a test
checks that the README, this module and the written files agree.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd

LEADERBOARDS_DIRNAME = "leaderboards"
CONFIDENCE = 0.95
MISSING = "missing"
"""Verdict of a pair that has no paired seed (nothing could be tested)."""

TEST_CROSSED = "crossed_t"
TEST_EQUIVALENCE = "tost"
TEST_MCNEMAR = "mcnemar"
TEST_WILCOXON = "wilcoxon"
TESTS = (TEST_CROSSED, TEST_EQUIVALENCE, TEST_MCNEMAR, TEST_WILCOXON)

PER_TASK_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "control", "target", "budget", "metric", "synthetic", "precision",
    "n_runs", "n_seeds", "n_failed", "n_missing", "n_examples",
    "accuracy_mean", "accuracy_std", "accuracy_ci_low", "accuracy_ci_high",
    "macro_f1_mean", "wall_seconds_mean", "examples_processed_mean",
)
TRANSFER_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "control", "target", "budget",
    "n_seeds", "n_examples", "n_failed", "n_missing",
    "method_accuracy", "reference_accuracy", "gain", "relative_gain", "se", "df", "ci_low", "ci_high",
    "p_value", "p_adj", "p_equivalence", "p_equivalence_adj", "margin", "mde", "seeds_to_decide",
    "family", "correction", "alpha", "verdict", "ntg",
)
NEGATIVE_COLUMNS: tuple[str, ...] = TRANSFER_COLUMNS
SIGNIFICANCE_COLUMNS: tuple[str, ...] = (
    "suite", "method", "source", "control", "target", "budget", "test", "seed", "n_seeds", "n_examples",
    "statistic", "df", "n_method_only", "n_ref_only",
    "p_value", "p_adj", "correction", "family",
)
LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "suite", "budget", "rank", "method", "reference", "n_pairs", "n_pairs_missing",
    "mean_gain", "mean_gain_ci_low", "mean_gain_ci_high",
    "iqm_gain", "iqm_gain_ci_low", "iqm_gain_ci_high",
    "probability_of_improvement", "wins", "ties", "losses", "inconclusive", "negative_transfer_rate",
    "mean_rank", "mean_accuracy", "n_runs", "n_failed", "n_missing",
    "wall_seconds_mean", "examples_processed_mean",
)
TRANSFERABILITY_COLUMNS: tuple[str, ...] = (
    "suite", "target", "budget", "source", "estimator", "score", "score_std", "finetune_gain", "n_seeds",
    "n_sources", "kendall_tau", "kendall_tau_low", "kendall_tau_high",
    "weighted_tau", "weighted_tau_low", "weighted_tau_high",
)
TRANSFERABILITY_RANKING_COLUMNS: tuple[str, ...] = (
    "suite", "rank", "estimator", "description", "n_groups", "n_pairs",
    "mean_kendall_tau", "mean_kendall_tau_low", "mean_kendall_tau_high",
    "mean_weighted_tau", "mean_weighted_tau_low", "mean_weighted_tau_high",
)

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "leaderboard.csv": LEADERBOARD_COLUMNS,
    "per_task.csv": PER_TASK_COLUMNS,
    "transfer_matrix.csv": TRANSFER_COLUMNS,
    "negative_transfer.csv": NEGATIVE_COLUMNS,
    "significance.csv": SIGNIFICANCE_COLUMNS,
    "transferability.csv": TRANSFERABILITY_COLUMNS,
    "transferability_ranking.csv": TRANSFERABILITY_RANKING_COLUMNS,
}
"""Every CSV the builder writes and its columns, in file order."""

FLOAT_FORMAT = "%.6g"
INT_COLUMNS = {
    "n_runs", "n_seeds", "n_failed", "n_missing", "n_examples", "rank", "n_pairs",
    "n_pairs_missing", "wins", "ties", "losses", "inconclusive", "seed", "n_method_only", "n_ref_only",
    "seeds_to_decide", "budget", "n_sources", "n_groups",
}
BOOL_COLUMNS = {"synthetic", "reference"}


def control_rows(table: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows whose source is a control (``control`` not empty)."""
    return table["control"].astype("string").fillna("").ne("").astype(bool)


def frame(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (absent values NaN) and stable dtypes."""
    frame = pd.DataFrame(list(rows), columns=list(columns))
    for col in columns:
        if col in INT_COLUMNS:
            frame[col] = pd.array(pd.to_numeric(frame[col]), dtype="Int64")
        elif col in BOOL_COLUMNS:
            frame[col] = frame[col].astype(bool)
    return frame


def sort_rows(frame: pd.DataFrame, by: list[str], columns: Sequence[str]) -> pd.DataFrame:
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


