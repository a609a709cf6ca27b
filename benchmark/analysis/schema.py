"""The leaderboard CSVs, declared: file names, each column once (name, type, meaning, report format)
in file order, and the constants their values use.

A :class:`~benchmark.analysis.columns.Table` per CSV makes its header and dtypes, its README
section (``python -m benchmark.analysis.schema docs/outputs/columns.md`` rewrites them; a test checks they
match) and the report's formatting of its cells. Plug-ins add derived columns with
:func:`~benchmark.analysis.columns.register_column`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import pandas as pd

from benchmark.analysis.columns import (
    FLOAT_FORMAT,
    Column,
    Row,
    Table,
    control_rows,
    csv_text,
    group_rows,
    sort_rows,
    tables,
    write_readme,
)
from benchmark.analysis.formats import fmt_level, fmt_num1, fmt_p, fmt_points, source_label

__all__ = ["FLOAT_FORMAT", "GROUP_SCORES", "MERGE_ALL", "TRANSFERABILITY", "TRANSFERABILITY_RANKING", "Column", "Table",
           "control_rows", "csv_text", "frame", "group_rows", "sort_rows"]

CONFIDENCE = 0.95
MISSING = "missing"
"""Verdict of a pair that has no paired seed (nothing could be tested)."""

TEST_CROSSED = "crossed_t"
TEST_EQUIVALENCE = "tost"
TEST_MCNEMAR = "mcnemar"
TEST_WILCOXON = "wilcoxon"
TESTS = (TEST_CROSSED, TEST_EQUIVALENCE, TEST_MCNEMAR, TEST_WILCOXON)


def _as_in(column: Column, meanings: dict[str, str]) -> Column:
    """A negative-transfer column: the transfer-matrix column, documented by reference."""
    return Column(column.name, column.type, meanings.get(column.name, "As in `transfer_matrix.csv`."),
                  label=column.label, fmt=column.fmt)


LEADERBOARD = Table(
    "leaderboard.csv",
    ('One row per (suite, budget, method), `target_only` included (flagged `reference`): one\n'
     'leaderboard per target budget. Sorted by suite, budget, then `rank`.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("budget", int, "Target training examples (every target of the row's pairs at this budget)."),
        Column("rank", int,
               ('1-based position of the method in its suite at this budget: ordered by `mean_rank` (lower is '
                'better), then by higher `mean_gain`, then by method name; methods with no result at all come last.')),
        Column("method", str, 'Method name.'),
        Column("reference", bool,
               '`True` for `target_only`, the reference of every gain (its gain columns are empty).'),
        Column("n_pairs", int,
               ('Pairs (rows of `transfer_matrix.csv` for this method) with at least one paired seed; the pairs the '
                'aggregates below are computed over.'), label="pairs"),
        Column("n_pairs_missing", int,
               'Pairs of this method with no paired seed (verdict `missing`); excluded from the aggregates.'),
        Column("mean_gain", float,
               ("Mean over pairs of the pair's transfer gain (each pair weighs the same; on a target, over the "
                "seeds all of the method's pairs there share)."), label="mean gain", fmt=fmt_points),
        Column("mean_gain_ci_low", float,
               ('Lower end of the 95% CI of `mean_gain` from the crossed variance-components model '
                "(`stats.crossed_mean_interval`): one block per target holding the sum of the method's pairs' d "
                'there, so seed noise, test-example noise and the reference runs pairs on one target share are all '
                'counted; t reference with Satterthwaite df.'), fmt=fmt_points),
        Column("mean_gain_ci_high", float, 'Upper end of that CI.', fmt=fmt_points),
        Column("iqm_gain", float,
               ('Interquartile mean (rliable): mean of the middle 50% of all per-(pair, seed) gains `acc_method(s) '
                '− acc_ref(s)` pooled over pairs.'), label="IQM gain", fmt=fmt_points),
        Column("iqm_gain_ci_low", float,
               'Lower end of the 95% stratified-bootstrap CI of `iqm_gain` (same resampling as for `mean_gain`).',
               fmt=fmt_points),
        Column("iqm_gain_ci_high", float, 'Upper end of that CI.', fmt=fmt_points),
        Column("probability_of_improvement", float,
               ("rliable's average probability of improvement over `target_only`: per pair, P(acc of a method seed "
                '> acc of a reference seed) + ½ P(equal) over all seed combinations, averaged over pairs. 0.5 = no '
                'difference.'), label="P(improve)"),
        Column("wins", int, 'Pairs judged `positive`.'),
        Column("ties", int, 'Pairs judged `equivalent`.'),
        Column("losses", int, 'Pairs judged `negative`.'),
        Column("inconclusive", int, 'Pairs judged `inconclusive` (`wins + ties + losses + inconclusive = n_pairs`).'),
        Column("negative_transfer_rate", float, '`losses / n_pairs`.', label="neg. rate"),
        Column("mean_rank", float,
               ("Average rank of the method's accuracy per target (rank 1 = best, ties get the average rank). On "
                'each target, the methods with runs there (planned or found) are ranked by their accuracy on it '
                '(mean over seeds and, for fusion methods, over sources); a method whose runs on that target all '
                'failed or are missing ranks below every method with a result. Averaged over the targets the method '
                'has runs for.'), label="mean rank"),
        Column("mean_accuracy", float,
               "Mean over targets of the method's accuracy on the target (mean over its sources and ok seeds).",
               label="mean acc.", fmt=fmt_level),
        Column("n_runs", int, 'Runs of the method planned or found (sum of `per_task.csv` `n_runs`).'),
        Column("n_failed", int, 'Of those, failed.'),
        Column("n_missing", int, 'Of those, missing (not run or interrupted).'),
        Column("wall_seconds_mean", float,
               'Mean wall-clock seconds per ok run (`run.json` `timings.wall_seconds`).',
               label="wall s/run", fmt=fmt_num1),
        Column("examples_processed_mean", float,
               ('Mean training examples processed per ok run (`run.json` `examples_processed`), a '
                'hardware-independent cost.')),
    ),
)

PER_TASK = Table(
    "per_task.csv",
    ('One row per (suite, method, source, target, budget), every method including `target_only`.\n'
     'Sorted by suite, method, source, target, budget.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("method", str, 'Method name.'),
        Column("source", str, ('Source task, `-` for methods without one; a many -> one group\'s source set is its '
                               'sources sorted and joined by `+` (`fashion_mnist+mnist`).'), fmt=source_label),
        Column("control", str,
               'As in `transfer_matrix.csv`: the expected direction of a control source, empty for a real one.'),
        Column("target", str, 'Target task (the task evaluated).'),
        Column("budget", int,
               ("Target training examples of the runs' draws (a prefix of one seeded permutation of the train "
                "split, so a seed's small draw lies inside its large one).")),
        Column("metric", str,
               ("The target's primary metric as recorded in `run.json` (`primary_metric`; `accuracy` when absent). "
                'Gains are always computed on accuracy.')),
        Column("synthetic", bool,
               ('`True` when any run of this row used generated stand-in data for its task (`run.json` '
                '`synthetic`): such numbers test the pipeline, not real transfer.')),
        Column("precision", str,
               ('Numeric precision of the ok runs (`run.json` `precision`): `bf16` or `fp32`; `bf16+fp32` when the '
                'cell mixes both, which the leaderboard build logs as a warning and the report flags (rerun such a '
                'cell at one precision).')),
        Column("n_runs", int,
               'Seeds planned (in `plan.json`) or found on disk. `n_runs = n_seeds + n_failed + n_missing`.',
               label="runs"),
        Column("n_seeds", int, 'Ok runs (seeds) the statistics below are computed from.', label="ok"),
        Column("n_failed", int, 'Failed runs.', label="failed"),
        Column("n_missing", int, 'Missing runs (planned but not finished, or interrupted).', label="missing"),
        Column("n_examples", int, 'Test examples shared by all ok seeds (aligned by id).'),
        Column("accuracy_mean", float,
               ('Mean over ok seeds of the test accuracy on the `n_examples` test examples all ok seeds share '
                '(aligned by id, as in every other statistic).'), label="accuracy", fmt=fmt_level),
        Column("accuracy_std", float,
               'Standard deviation over seeds (ddof = 1); empty with one seed.', label="std", fmt=fmt_level),
        Column("accuracy_ci_low", float,
               ('Lower end of the 95% CI of the mean accuracy from the crossed variance-components model on the '
                'correctness (S seeds × N shared examples; t reference, Satterthwaite df); empty with one seed.'),
               fmt=fmt_level),
        Column("accuracy_ci_high", float, 'Upper end of that CI.', fmt=fmt_level),
        Column("macro_f1_mean", float,
               ('Mean over seeds of the macro-F1 (unweighted mean of per-class F1 over the classes present in '
                'labels or predictions).'), label="macro-F1", fmt=fmt_level),
        Column("wall_seconds_mean", float, 'Mean wall-clock seconds per ok run.', label="wall s/run", fmt=fmt_num1),
        Column("examples_processed_mean", float, 'Mean training examples processed per ok run.'),
    ),
)
PER_TASK_COLUMNS = PER_TASK

TRANSFER = Table(
    "transfer_matrix.csv",
    ('One row per (suite, method, source, target, budget) for every method except `target_only`;\n'
     'per-target methods (`scratch`, `linear_probe`) have source `-`. Each combination\n'
     'appears exactly once, including pairs that could not be tested. Sorted by suite, method,\n'
     'source, target, budget.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("method", str, 'Method compared with `target_only`.'),
        Column("source", str, ('Source task, `-` for methods without one; a many -> one group\'s source set is its '
                               'sources sorted and joined by `+` (`fashion_mnist+mnist`).'), fmt=source_label),
        Column("control", str,
               ("`positive` / `negative` when the source is a control (`T~more`: more of the target's own training "
                'data; `T~shuffled`: the same data with shuffled labels), naming the verdict it is expected to '
                'give; empty for a real source. Controls form their own families (`family`) and are left out of '
                '`leaderboard.csv` and `negative_transfer.csv`.')),
        Column("target", str, 'Target task.'),
        Column("budget", int,
               'Target training examples; the method and `target_only` are compared at the same budget.'),
        Column("n_seeds", int,
               ("Paired seeds: seeds where both the method's run and `target_only`'s run are ok. 0 means nothing "
                'could be compared.'), label="seeds"),
        Column("n_examples", int, 'Test examples present in every paired run (aligned by id).'),
        Column("n_failed", int,
               ("Failed runs among the method's seeds (planned or found) and the `target_only` runs of those same "
                'seeds.')),
        Column("n_missing", int,
               'Missing runs among the same runs (a `target_only` seed that was never planned counts as missing).'),
        Column("method_accuracy", float,
               "Mean over paired seeds of the method's accuracy.", label="method acc.", fmt=fmt_level),
        Column("reference_accuracy", float,
               "Mean over paired seeds of `target_only`'s accuracy.", label="reference acc.", fmt=fmt_level),
        Column("gain", float,
               'Transfer gain TG = `method_accuracy − reference_accuracy` (Wang et al. 2019; paired by seed).',
               fmt=fmt_points),
        Column("relative_gain", float,
               '`gain / reference_accuracy` (Vu et al. 2020); empty when the reference accuracy is 0.',
               fmt=fmt_points),
        Column("se", float,
               ('Standard error of the gain from the crossed variance-components model (seed part moderated across '
                "the pairs on the pair's target).")),
        Column("df", float, ('Satterthwaite degrees of freedom of that standard error (reported; the verdict uses the '
                             'calibrated critical values of `stats/critical.py`, docs/statistics/calibration.md).')),
        Column("seed_sd", float, ("SD of the per-seed gain the test uses (√ of its seed variance, own or borrowed);"
                                  " accuracy units."), label="seed SD", fmt=fmt_points),
        Column("seed_sd_from", str, ('`own` (the pair\'s own seeds only) or the pairs it borrowed seed variance from,'
                                     ' `<k> pairs on <targets>` (README, Calibration).')),
        Column("ci_low", float,
               ('Lower end of the 95% CI of the gain, `gain ± t(0.975, df) · se` (under `--until-decided`: the '
                "intersection of the looks' intervals, a confidence sequence)."), fmt=fmt_points),
        Column("ci_high", float, 'Upper end of that CI.', fmt=fmt_points),
        Column("p_value", float,
               ('Two-sided p-value of "gain = 0" from the crossed t test (`crossed_t`; sequential under '
                '`--until-decided`).'), label="p", fmt=fmt_p),
        Column("p_adj", float,
               "`p_value` adjusted within the method's family (`family`, `correction`).", label="p adj.", fmt=fmt_p),
        Column("p_equivalence", float,
               ('TOST p-value of "the gain lies outside ±`margin`" (the larger of the two one-sided t p-values; '
                'sequential under `--until-decided`).'), fmt=fmt_p),
        Column("p_equivalence_adj", float, "`p_equivalence` adjusted within the method's `tost` family.", fmt=fmt_p),
        Column("margin", float, 'Equivalence margin (`--margin`, default 0.01 = one accuracy point).'),
        Column("mde", float,
               ('Minimum detectable effect: the smallest |gain| this pair would detect with 80% power at its '
                "family's strictest threshold α / m (m = tested pairs of the method), `(t(1 − α/2m, df) + t(0.8, "
                'df)) · se`.'), label="MDE", fmt=fmt_level),
        Column("seeds_to_decide", int,
               ('For an undecided pair, the smallest seed count (up to 20) at which the observed gain, with the '
                'variance projected to more seeds, would be significant or equivalent at that threshold; equals '
                '`n_seeds` when already decided; empty when no count up to 20 would decide it.')),
        Column("family", str,
               ('The family of the verdict test: `<suite>/<method>/budget=<b>/crossed_t`; for control pairs '
                '`<suite>/<method>/budget=<b>/<positive or negative>-control/crossed_t`; for many -> one groups '
                '(source `a+b`) `<suite>/<method>/budget=<b>/groups/crossed_t`.')),
        Column("correction", str,
               'Adjustment used: `bh` (Benjamini–Hochberg, default), `holm` (Holm–Bonferroni) or `none`.'),
        Column("alpha", float, 'Significance level of the verdict (default 0.05).'),
        Column("verdict", str,
               ('`positive` if gain > 0 and `p_adj < alpha`; `negative` if gain < 0 and `p_adj < alpha`; else '
                '`equivalent` if `p_equivalence_adj < alpha`; else `inconclusive`; `missing` when `n_seeds` is 0.')),
        Column("ntg", float,
               'Negative-transfer gap NTG = −gain (Wang et al. 2019); positive values mean the source hurt.',
               label="NTG", fmt=fmt_points),
    ),
)

NEGATIVE = Table(
    "negative_transfer.csv",
    ('The rows of `transfer_matrix.csv` whose verdict is `negative` (merge-all rows left out: their\n'
     'loss is interference, in `merge_all.csv`), with the same columns\n'
     '(`ntg` > 0 on every row). Sorted by suite, then `ntg` descending (worst first), then\n'
     'method, source, target. Header only when no pair is negative.'),
    tuple(_as_in(c, {
        "control": 'As in `transfer_matrix.csv` (always empty here: control pairs are left out of this file).',
        "gain": 'As in `transfer_matrix.csv` (negative).',
        "p_adj": 'As in `transfer_matrix.csv` (< `alpha`).',
        "verdict": 'Always `negative`.',
        "ntg": 'Negative-transfer gap = −gain (> 0).',
    }) for c in TRANSFER.base),
    extends="transfer_matrix.csv",
)
NEGATIVE_COLUMNS = NEGATIVE

SIGNIFICANCE = Table(
    "significance.csv",
    ('One row per statistical test run on a tested pair (pairs with no paired seed have no\n'
     'rows here; they appear in `transfer_matrix.csv` with verdict `missing`). Only tests that are\n'
     'valid for what they claim are reported (the crossed bootstrap and the example-level sign\n'
     'flip of earlier versions were dropped: simulation showed them miscalibrated with few\n'
     'seeds). Sorted by suite, method, source, target, budget, test, seed.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("method", str, 'Method compared with `target_only`.'),
        Column("source", str, ('Source task, `-` for methods without one; a many -> one group\'s source set is its '
                               'sources sorted and joined by `+` (`fashion_mnist+mnist`).'), fmt=source_label),
        Column("control", str,
               'As in `transfer_matrix.csv`: the expected direction of a control source, empty for a real one.'),
        Column("target", str, 'Target task.'),
        Column("budget", int, 'Target training examples.'),
        Column("test", str,
               ('`crossed_t` (the verdict test: moderated crossed variance-components t test of gain = 0; its p is '
                '`transfer_matrix.csv` `p_value`), `tost` (its equivalence test against ±margin), `mcnemar` (exact '
                "McNemar test on one seed: binomial test on the discordant examples, a test about that seed's two "
                'trained models on this test set; one row per paired seed) or `wilcoxon` (Wilcoxon signed-rank test '
                'on per-seed accuracies, about these models on this test set; only with ≥ 6 paired seeds, where its '
                'exact p can reach 0.05).')),
        Column("seed", int, 'The seed of a `mcnemar` row; empty for tests over all paired seeds.'),
        Column("n_seeds", int, 'Seeds the test used (1 for `mcnemar`).'),
        Column("n_examples", int, 'Test examples the test used (aligned by id).'),
        Column("statistic", float,
               ("`crossed_t`: the t statistic gain / se; `tost`: the gain; `mcnemar`: the seed's accuracy "
                "difference (n_method_only − n_ref_only) / n_examples; `wilcoxon`: scipy's signed-rank statistic W.")),
        Column("df", float, ('Satterthwaite degrees of freedom (`crossed_t`, `tost`; reported, the test uses '
                             'calibrated critical values); empty for exact tests.')),
        Column("n_method_only", int, '`mcnemar` only: examples the method got right and `target_only` wrong.'),
        Column("n_ref_only", int, '`mcnemar` only: examples `target_only` got right and the method wrong.'),
        Column("p_value", float,
               'Two-sided p-value of "no difference" (`tost`: of "not equivalent").', label="p", fmt=fmt_p),
        Column("p_adj", float, '`p_value` adjusted within `family` with `correction`.', label="p adj.", fmt=fmt_p),
        Column("correction", str, '`bh`, `holm` or `none`.'),
        Column("family", str,
               ('The set of p-values adjusted together: `<suite>/<method>/budget=<b>/<test>` (one test type of one '
                "method at one budget in one suite, across its pairs); a method's controls of one direction are a "
                'family of their own, `<suite>/<method>/budget=<b>/<direction>-control/<test>`, and so are its many '
                '-> one groups, `<suite>/<method>/budget=<b>/groups/<test>`.')),
    ),
)

# The group and transferability tables live in their own modules; imported here so they follow.
from benchmark.analysis.group_schema import GROUP_SCORES, MERGE_ALL  # noqa: E402
from benchmark.analysis.transferability_schema import TRANSFERABILITY, TRANSFERABILITY_RANKING  # noqa: E402

CSV_COLUMNS: dict[str, Table] = tables()
"""Every CSV the builder writes and its columns (as a sequence of names), in file order."""


def frame(rows: Sequence[Row], columns: Table) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (absent values NaN), derived columns computed, stable dtypes."""
    return columns.frame(rows)


if __name__ == "__main__":  # python -m benchmark.analysis.schema docs/outputs/columns.md: regenerate its CSV tables
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for readme in sys.argv[1:] or ["docs/outputs/columns.md"]:
        logging.getLogger(__name__).info("%s: %s", readme, "rewritten" if write_readme(readme) else "up to date")
