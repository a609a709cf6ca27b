"""The transferability CSVs, declared like the others (:mod:`benchmark.analysis.schema`):
``transferability.csv`` (an estimator's score per source, and how it ranks sources against
the judge's measured gains) and ``transferability_ranking.csv`` (estimators ranked)."""

from __future__ import annotations

from benchmark.analysis.columns import Column, Table
from benchmark.analysis.formats import fmt_num3, fmt_points


def _estimator_meaning() -> str:
    from benchmark.analysis.estimators import estimators

    listed = "; ".join(f"`{e.name}`: {e.description}" for e in estimators().values())
    return (f"The estimator ({listed}). Each is one function registered with "
            "`benchmark.analysis.estimators.register_estimator`.")


TRANSFERABILITY = Table(
    "transferability.csv",
    ('Can the right source be picked before paying for training? One row per (suite, target,\n'
     "budget, source, estimator): the estimator's score of the source-tuned model on the target's\n"
     'training draw, computed **before any target training** (`python -m benchmark\n'
     'transferability`, also the last step of `run`), next to the gain it should predict:\n'
     '`finetune` over `target_only`, seed by seed. Only real sources with a `finetune` run are\n'
     'scored (controls are not candidates). Each (source, target, budget, seed) is scored once\n'
     'and stored under `results/transferability/`. Sorted by suite, target, budget, estimator,\n'
     'source.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("target", str, 'Target task.'),
        Column("budget", int, 'Target training examples (the draw that is scored is the one `finetune` trains on).'),
        Column("source", str, 'Candidate source task.'),
        Column("estimator", str, _estimator_meaning),
        Column("score", float,
               ("The estimator's mean over the scored seeds (higher = predicted to transfer better); empty where it "
                "does not apply (`leep` and `nce` need the source head to read the target's features: not for a "
                'sentence-pair source on single sentences). `h_score` saturates at C−1 when the examples do not '
                'outnumber the features (a tie, not an order).'), fmt=fmt_num3),
        Column("score_std", float, 'Its standard deviation over seeds (ddof 1).'),
        Column("judge_gain", float,
               ("Mean over the same seeds of the judge's accuracy − the reference's (fraction): the suite's "
                "`judge` and `reference` roles, `finetune` and `target_only` by default."),
               label="judge gain", fmt=fmt_points),
        Column("n_seeds", int, 'Seeds with both a score and a gain.'),
        Column("n_sources", int,
               'Candidate sources of this target and budget with a score and a gain (the items τ ranks).'),
        Column("kendall_tau", float,
               ("Kendall τ-b between the sources' mean scores and their mean gains, for this (target, budget, "
                'estimator); repeated on each of its rows. 1 = the estimator orders the sources as training did; '
                'empty when undefined (fewer than 2 sources, or tied scores).')),
        Column("kendall_tau_low", float,
               ('Lower end of its 95% percentile bootstrap interval (seeds resampled, scores and gains together; '
                '2,000 resamples).')),
        Column("kendall_tau_high", float, 'Upper end.'),
        Column("weighted_tau", float,
               ("Weighted τ (scipy's hyperbolic weights, which stress the top of the ranking: picking the best "
                'source matters most). Equal to `kendall_tau` with two sources.')),
        Column("weighted_tau_low", float, 'Lower end of its 95% bootstrap interval.'),
        Column("weighted_tau_high", float, 'Upper end.'),
    ),
)

TRANSFERABILITY_RANKING = Table(
    "transferability_ranking.csv",
    ("One row per (suite, estimator): how well it predicts transfer over all the suite's targets\n"
     'and budgets. Sorted by suite, then rank.'),
    (
        Column("suite", str, 'Suite name.'),
        Column("rank", int, '1 = highest `mean_kendall_tau` (ties by name; undefined last).'),
        Column("estimator", str, 'As in `transferability.csv`.'),
        Column("description", str, 'What it scores, with its reference.', label="what it scores"),
        Column("n_groups", int, '(target, budget) groups with at least 2 candidate sources.', label="targets"),
        Column("n_pairs", int, '(source, target, budget) items over those groups.'),
        Column("mean_kendall_tau", float,
               'Mean over groups of `kendall_tau` (groups where it is undefined left out).', label="mean τ"),
        Column("mean_kendall_tau_low", float,
               ('Lower end of its 95% interval: stratified bootstrap, seeds resampled within every group, targets '
                'fixed.')),
        Column("mean_kendall_tau_high", float, 'Upper end.'),
        Column("mean_weighted_tau", float, 'Mean over groups of `weighted_tau`.', label="mean weighted τ"),
        Column("mean_weighted_tau_low", float, 'Lower end of its 95% interval (same bootstrap).'),
        Column("mean_weighted_tau_high", float, 'Upper end.'),
    ),
)
