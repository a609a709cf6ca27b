"""Statistics layer of ``benchmark``: pure functions on numpy arrays (numpy + scipy only).

No files, no logging, no global random state: every random procedure takes an explicit
``rng: numpy.random.Generator``, so the same seed gives the same numbers.

Shapes: S seeds, N test examples, P transfer pairs. Per-example correctness arrays are
bool / 0-1 shaped (S, N), column i the same test example for every seed.

- per run: :func:`accuracy`, :func:`macro_f1`, :func:`accuracies_from_correct`
- gain: :func:`transfer_gain`, :func:`relative_gain`, :func:`negative_transfer_gap`
- tests about one pair's trained models on this test set: :func:`mcnemar_exact` /
  :func:`mcnemar_per_seed`, :func:`wilcoxon_seeds`; kept only as the calibration
  benchmark's point of comparison (miscalibrated with few seeds, never used for verdicts):
  :func:`hierarchical_bootstrap`, :func:`sign_flip_test`
- verdict-driving test of a gain (crossed seeds x examples design):
  :func:`crossed_family_test` (one family of pairs: moderated variance-components t test,
  CI, TOST, MDE, seeds to decide, sequential looks) built from :func:`crossed_mean_squares`,
  :func:`fit_seed_prior` (per target: :func:`pair_priors`) and :func:`crossed_t_test`; limma's :func:`fit_f_dist` /
  :func:`squeeze_var`; adaptive seeds: :class:`SequentialDesign`, :func:`sequential_weights`,
  :func:`sequential_p_value`; simulation of the design: :mod:`.simulate`
- multiple comparisons: :func:`adjust_pvalues` (``"holm"``, ``"bh"``, ``"none"``; one family
  or many along an axis)
- the analysis settings and their defaults, defined once: :class:`AnalysisSettings`,
  :data:`DEFAULTS` (alpha, correction, margin)
- descriptive intervals from the same crossed model: :func:`crossed_mean_interval`
- verdicts: :func:`verdict`, :func:`verdicts` (with equivalence), :func:`verdict_counts`,
  :func:`win_tie_loss`, :func:`negative_transfer_rate`
- aggregates (rliable): :func:`iqm`, :func:`pooled_mean`, :func:`mean_of_means`,
  :func:`stratified_bootstrap_ci`, :func:`probability_of_improvement`, :func:`mean_rank`
- transferability estimators (:mod:`.transferability`): :func:`logme`, :func:`leep`,
  :func:`nce`, :func:`h_score`, :func:`knn_probe_accuracy`; their agreement with real gains:
  :func:`rank_agreement`, :func:`mean_rank_agreement` (across targets)

Bad input raises ``ValueError`` with one line naming the argument and the problem; a
``rng`` that is not a ``numpy.random.Generator`` raises ``TypeError``.
"""

from benchmark.analysis.stats import simulate
from benchmark.analysis.stats.aggregate import (
    NAN_POLICIES,
    iqm,
    mean_of_means,
    mean_rank,
    pooled_mean,
    probability_of_improvement,
    stratified_bootstrap_ci,
)
from benchmark.analysis.stats.crossed import (
    MDE_POWER,
    CrossedAnova,
    CrossedTestArrays,
    GainTestArrays,
    MeanSquares,
    crossed_anova,
    crossed_mean_squares,
    crossed_t_test,
    variance_terms,
)
from benchmark.analysis.stats.family import (
    MAX_SEEDS_TO_DECIDE,
    FamilyArrays,
    PairTest,
    crossed_family_arrays,
    crossed_family_test,
)
from benchmark.analysis.stats.metrics import (
    EQUIVALENT,
    INCONCLUSIVE,
    NEGATIVE,
    POSITIVE,
    VERDICT_NAMES,
    accuracies_from_correct,
    accuracy,
    macro_f1,
    negative_transfer_gap,
    negative_transfer_rate,
    relative_gain,
    transfer_gain,
    verdict,
    verdict_counts,
    verdicts,
    win_tie_loss,
)
from benchmark.analysis.stats.moderation import (
    ROBUST_Z,
    SeedPrior,
    SqueezedVar,
    fit_f_dist,
    fit_seed_prior,
    posterior_variance,
    squeeze_var,
    trigamma_inverse,
)
from benchmark.analysis.stats.multiple import CORRECTIONS, adjust_pvalues
from benchmark.analysis.stats.paired import (
    MIN_SEEDS_WILCOXON,
    BootstrapResult,
    McNemarResult,
    PermutationResult,
    WilcoxonResult,
    hierarchical_bootstrap,
    mcnemar_exact,
    mcnemar_per_seed,
    paired_example_differences,
    sign_flip_test,
    wilcoxon_seeds,
)
from benchmark.analysis.stats.pooled import MeanInterval, crossed_mean_interval
from benchmark.analysis.stats.pooling import DEFAULT_POOLING, POOLINGS, pair_priors
from benchmark.analysis.stats.sequential import (
    SequentialDesign,
    sequential_p_value,
    sequential_weights,
)
from benchmark.analysis.stats.settings import (
    DEFAULT_ALPHA,
    DEFAULT_CORRECTION,
    DEFAULT_MARGIN,
    DEFAULTS,
    AnalysisSettings,
)
from benchmark.analysis.stats.transferability import (
    h_score,
    knn_probe_accuracy,
    leep,
    logme,
    mean_rank_agreement,
    nce,
    rank_agreement,
)

__all__ = [
    "DEFAULT_POOLING",
    "POOLINGS",
    "pair_priors",
    "AnalysisSettings",
    "CORRECTIONS",
    "DEFAULTS",
    "DEFAULT_ALPHA",
    "DEFAULT_CORRECTION",
    "GainTestArrays",
    "variance_terms",
    "EQUIVALENT",
    "MeanInterval",
    "PairTest",
    "crossed_family_test",
    "DEFAULT_MARGIN",
    "MAX_SEEDS_TO_DECIDE",
    "MDE_POWER",
    "ROBUST_Z",
    "CrossedAnova",
    "CrossedTestArrays",
    "FamilyArrays",
    "MeanSquares",
    "SeedPrior",
    "SequentialDesign",
    "SqueezedVar",
    "crossed_anova",
    "crossed_family_arrays",
    "crossed_mean_squares",
    "crossed_t_test",
    "fit_f_dist",
    "fit_seed_prior",
    "posterior_variance",
    "sequential_p_value",
    "sequential_weights",
    "simulate",
    "squeeze_var",
    "trigamma_inverse",
    "crossed_mean_interval",
    "verdict_counts",
    "INCONCLUSIVE",
    "MIN_SEEDS_WILCOXON",
    "NAN_POLICIES",
    "NEGATIVE",
    "POSITIVE",
    "VERDICT_NAMES",
    "BootstrapResult",
    "McNemarResult",
    "PermutationResult",
    "WilcoxonResult",
    "accuracies_from_correct",
    "accuracy",
    "adjust_pvalues",
    "hierarchical_bootstrap",
    "iqm",
    "macro_f1",
    "mcnemar_exact",
    "mcnemar_per_seed",
    "mean_of_means",
    "mean_rank",
    "negative_transfer_gap",
    "negative_transfer_rate",
    "paired_example_differences",
    "pooled_mean",
    "probability_of_improvement",
    "relative_gain",
    "sign_flip_test",
    "stratified_bootstrap_ci",
    "transfer_gain",
    "verdict",
    "verdicts",
    "wilcoxon_seeds",
    "win_tie_loss",
    "h_score",
    "knn_probe_accuracy",
    "leep",
    "logme",
    "mean_rank_agreement",
    "nce",
    "rank_agreement",
]
