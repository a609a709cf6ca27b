"""The group leaderboard CSVs, declared like the others (:mod:`benchmark.analysis.schema`):
``group_scores.csv`` (many -> one: what each source adds) and ``merge_all.csv`` (one model
merged from K task models, against each task's expert)."""

from __future__ import annotations

from benchmark.analysis.columns import Column, Table
from benchmark.analysis.formats import fmt_level, fmt_p, fmt_points

GROUP_SCORES = Table(
    "group_scores.csv",
    ('Many -> one groups: one row per (suite, method, target, group, budget) and smaller source set\n'
     "of the same method it is compared with: each leave-one-source-out set (the dropped source's\n"
     'contribution; for two sources, the pair of the other one) and, for K > 2, each single source.\n'
     "The group's gain over `target_only` is its `transfer_matrix.csv` row. Sorted by suite, method,\n"
     'target, sources, budget, reference_sources.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("method", str, 'The fusion method of both runs.'),
        Column("target", str, 'Target task.'),
        Column("budget", int, 'Target training examples (both runs).'),
        Column("sources", str, "The group's source set (sorted, `+`-joined).", label="group"),
        Column("reference_sources", str, 'The smaller source set compared with: the run without `dropped`.',
               label="compared with"),
        Column("dropped", str, 'The sources in `sources` but not in `reference_sources`.'),
        Column("leave_one_out", bool, '`True` when one source is dropped: `gain` is its contribution.'),
        Column("best_single", bool,
               ('`True` on the row against the single source whose run is most accurate (mean over its paired '
                'seeds): its `gain` is the group over the best single source. Picked by observed accuracy, so '
                'that gain is biased down: `positive` there is conservative, `negative` is not.')),
        Column("n_seeds", int, 'Seeds where both runs are ok (paired by seed).', label="seeds"),
        Column("n_examples", int, 'Test examples present in every paired run (aligned by id).'),
        Column("group_accuracy", float, "Mean over paired seeds of the group run's accuracy.",
               label="group acc.", fmt=fmt_level),
        Column("reference_accuracy", float, "Mean over paired seeds of the smaller set's accuracy.",
               label="without acc.", fmt=fmt_level),
        Column("gain", float, '`group_accuracy − reference_accuracy`: what `dropped` adds (paired by seed).',
               fmt=fmt_points),
        Column("se", float, 'Standard error of `gain`, crossed variance-components model as in `transfer_matrix.csv`.'),
        Column("df", float, 'Satterthwaite degrees of freedom of `se` (reported, as in `transfer_matrix.csv`).'),
        Column("ci_low", float, 'Lower end of the 95% CI of `gain` (calibrated critical values).', fmt=fmt_points),
        Column("ci_high", float, 'Upper end of that CI.', fmt=fmt_points),
        Column("p_value", float, 'Two-sided p-value of "gain = 0" (crossed t).', label="p", fmt=fmt_p),
        Column("p_adj", float, '`p_value` adjusted within `family` with `correction`.', label="p adj.", fmt=fmt_p),
        Column("p_equivalence", float, 'TOST p-value of "|gain| ≥ `margin`".', fmt=fmt_p),
        Column("p_equivalence_adj", float, '`p_equivalence` adjusted within `family`.', fmt=fmt_p),
        Column("mde", float, 'Minimum detectable |gain| at 80% power at α / m, as in `transfer_matrix.csv`.',
               label="MDE", fmt=fmt_level),
        Column("seeds_to_decide", int, 'As in `transfer_matrix.csv`.'),
        Column("family", str, 'The family adjusted together: `<suite>/<method>/budget=<b>/leave-one-out/crossed_t`.'),
        Column("correction", str, '`bh`, `holm` or `none`.'),
        Column("alpha", float, 'Significance level of the verdict.'),
        Column("margin", float, 'Equivalence margin.'),
        Column("verdict", str,
               ('`positive`: the dropped source adds accuracy; `negative`: it costs accuracy (interference); '
                '`equivalent`: within ±`margin`; `inconclusive`; `missing` when no seed is paired '
                '(rule as in `transfer_matrix.csv`).')),
    ),
)


MERGE_ALL = Table(
    "merge_all.csv",
    ("Merge-all groups: one row per (suite, group, method, budget, task): the one model merged from\n"
     "the group's K experts, with that task's head, against the task's expert (`target_only` at the\n"
     'source budget: the very model the merge took) and the pretrained trunk with a trained head\n'
     "(the suite's `pretrained` method, by default `linear_probe`). The test, family and verdict are\n"
     "its `transfer_matrix.csv` row. Sorted by\n"
     'suite, group, budget, method, task.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("group", str, 'The merged tasks (sorted, `+`-joined): the row\'s `source` in `transfer_matrix.csv`.'),
        Column("budget", int, 'Training examples of every expert (the protocol\'s source budget).'),
        Column("method", str, 'The merging method.'),
        Column("task", str, 'The task evaluated (with its own expert head).'),
        Column("n_seeds", int, 'Seeds where the merged run and the expert are both ok.', label="seeds"),
        Column("merged_accuracy", float, "Mean over paired seeds of the merged model's accuracy.",
               label="merged", fmt=fmt_level),
        Column("expert_accuracy", float, "Mean over the same seeds of the expert's accuracy.", label="expert",
               fmt=fmt_level),
        Column("pretrained_accuracy", float,
               ("Mean over its ok seeds of the suite's `pretrained` method (default `linear_probe`: frozen "
                'pretrained trunk, trained head) at the same budget; empty when the suite does not run it.'),
               label="pretrained", fmt=fmt_level),
        Column("gain", float, '`merged_accuracy − expert_accuracy` (negative: interference).', fmt=fmt_points),
        Column("ci_low", float, 'Lower end of its 95% CI (as in `transfer_matrix.csv`).', fmt=fmt_points),
        Column("ci_high", float, 'Upper end.', fmt=fmt_points),
        Column("normalized_accuracy", float,
               ("`merged_accuracy / expert_accuracy` (FusionBench's normalized accuracy; 1 = no loss)."),
               label="normalized", fmt=fmt_level),
        Column("normalized_ci_low", float,
               ('Lower end of its 95% CI, `1 + ci_low / expert_accuracy` (delta method with the expert '
                "accuracy as known; coverage checked by simulation in `benchmarks/bench_merge_all.py`)."),
               fmt=fmt_level),
        Column("normalized_ci_high", float, 'Upper end, `1 + ci_high / expert_accuracy`.', fmt=fmt_level),
        Column("p_adj", float,
               "The gain's adjusted p-value (family `<suite>/<method>/budget=<b>/merge-all/crossed_t`).",
               label="p adj.", fmt=fmt_p),
        Column("p_equivalence_adj", float, 'The adjusted TOST p-value of "|gain| ≥ margin".', fmt=fmt_p),
        Column("verdict", str, 'The `transfer_matrix.csv` verdict of the row.'),
        Column("reading", str,
               ('What the verdict says about merging: `interference` (negative), `no loss` (equivalent), '
                '`gain` (positive), `inconclusive`, `missing`.')),
    ),
)
