"""One code path for statistics (issue 21 item 6): the family adjustment, the crossed variance,
the Wilcoxon rule and the analysis defaults each exist once, and the simulations, the
descriptive intervals, the CLI and the leaderboards call that one definition."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from benchmark.analysis import stats
from benchmark.analysis.stats import simulate as sim
from benchmark.cli import build_parser

STATSMODELS = {"holm": "holm", "bh": "fdr_bh"}

# --------------------------------------------------------------------------- adjustment


def _families(rng: np.random.Generator) -> np.ndarray:
    """(60, 9) p-values: rows with ties (rounded), exact zeros and ones, and NaN."""
    p = rng.random((60, 9)) ** 2
    p[:20] = np.round(p[:20], 1)  # many ties
    p[20:25, :2] = 0.0
    p[25:30, -2:] = 1.0
    p[30:45][rng.random((15, 9)) < 0.3] = np.nan
    p[45, :] = np.nan  # a family with no test
    return p


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjust_matches_statsmodels_with_ties_and_nan(method: str) -> None:
    # statsmodels has no NaN rule: compare on each family's present p-values (NaN pairs are
    # left out of the family size, as the verdicts do).
    for row in _families(np.random.default_rng(0)):
        out = stats.adjust_pvalues(row, method)
        present = ~np.isnan(row)
        assert np.array_equal(np.isnan(out), ~present)
        if present.any():
            expected = multipletests(row[present], method=STATSMODELS[method])[1]
            np.testing.assert_allclose(out[present], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", ["holm", "bh", "none"])
def test_adjust_over_an_axis_equals_each_family_alone(method: str) -> None:
    p = _families(np.random.default_rng(1))
    by_row = np.stack([stats.adjust_pvalues(row, method) for row in p])
    np.testing.assert_array_equal(stats.adjust_pvalues(p, method, axis=-1), by_row)
    np.testing.assert_array_equal(stats.adjust_pvalues(p.T, method, axis=0), by_row.T)
    cube = p.reshape(6, 10, 9)
    np.testing.assert_array_equal(stats.adjust_pvalues(cube, method, axis=2), by_row.reshape(6, 10, 9))


def test_adjust_axis_errors() -> None:
    with pytest.raises(ValueError, match="pass axis="):
        stats.adjust_pvalues(np.full((2, 3), 0.5), "bh")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        stats.adjust_pvalues(np.full((2, 3), 0.5), "bh", axis=2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.adjust_pvalues([[0.5, 1.5]], "holm", axis=-1)


def test_simulated_sequential_decisions_use_the_verdict_adjustment() -> None:
    # run_until_decided stops a pair once adjust_pvalues (the verdicts' function) decides it.
    sample = sim.simulate_families(np.random.default_rng(7), n_families=40, regime="seed-dominated",
                                   n_seeds=6, gain=0.03)
    design = stats.sequential_weights(3, 6)
    res, seeds = sim.run_until_decided(sample, design, alpha=0.05, correction="holm")
    decided = (stats.adjust_pvalues(res.p_value, "holm", axis=-1) < 0.05) | (
        stats.adjust_pvalues(res.p_tost, "holm", axis=-1) < 0.05)
    assert np.all(decided | (seeds == 6))
    assert (seeds < 6).any() and not hasattr(sim, "adjust_rows")


# --------------------------------------------------------------------------- crossed variance


def _old_pooled_terms(block: np.ndarray, w: float) -> tuple[float, float]:
    """The variance and Satterthwaite denominator pooled.py computed before the formula was
    shared (its own copy, kept here as the reference)."""
    ms = stats.crossed_mean_squares(block)
    s, n = block.shape
    seed_term = w * w * float(ms.ms_seed) / (s * n)
    variance, den = seed_term, seed_term**2 / (s - 1)
    if float(ms.ms_example) - float(ms.ms_interaction) > 0:
        ex_term = w * w * float(ms.ms_example) / (s * n)
        int_term = w * w * float(ms.ms_interaction) / (s * n)
        variance += ex_term - int_term
        den += ex_term**2 / (n - 1) + int_term**2 / ((s - 1) * (n - 1))
    return variance, den


@pytest.mark.parametrize("regime", list(sim.REGIMES))
def test_pooled_interval_uses_the_verdict_variance(regime: str) -> None:
    rng = np.random.default_rng(11)
    method, ref = sim.crossed_correctness(rng, 3, 150, regime=regime, n_methods=3, size=(20, 4))
    for r in range(20):
        blocks = [method[r, t].astype(np.int64).sum(0) - 3 * ref[r, t].astype(np.int64) for t in range(4)]
        iv = stats.crossed_mean_interval(blocks, [1 / 12] * 4)
        parts = [_old_pooled_terms(b, 1 / 12) for b in blocks]
        variance, den = sum(v for v, _ in parts), sum(d for _, d in parts)
        assert iv.se == pytest.approx(math.sqrt(variance), rel=1e-12)
        assert iv.df == pytest.approx(variance**2 / den, rel=1e-12)


def test_variance_terms_hand_values() -> None:
    # S = 2, N = 3, d = [[1, 0, 0], [1, 1, -1]]: row sums 1, 1; column sums 2, 1, -1; total 2;
    # sum of squares 4; correction 4/6. SS_seed = (1 + 1)/3 - 4/6 = 0; SS_ex = (4 + 1 + 1)/2 - 4/6
    # = 7/3; SS_int = 4 - 4/6 - 0 - 7/3 = 1. MS_seed = 0, MS_ex = 7/6, MS_int = 1/2.
    ms = stats.crossed_mean_squares(np.array([[1, 0, 0], [1, 1, -1]]))
    seed_term, ex_term, ex_den = stats.variance_terms(ms, 0.3)
    assert float(seed_term) == pytest.approx(0.3 / 2)  # seed_var / S
    assert float(ex_term) == pytest.approx((7 / 6 - 1 / 2) / 6)  # (MS_ex - MS_int) / (S N)
    assert float(ex_den) == pytest.approx((7 / 36) ** 2 / 2 + (1 / 12) ** 2 / 2)
    # crossed_anova's Var(gain) is the same V with v_seed = MS_seed / N = 0.
    anova = stats.crossed_anova(np.array([[1, 0, 0], [1, 1, 0]]), np.array([[0, 0, 0], [0, 0, 1]]))
    assert anova.var_gain == pytest.approx((7 / 6 - 1 / 2) / 6)
    # One seed: V = seed_var + MS_ex / N, example df N - 1.
    one = stats.crossed_mean_squares(np.array([[1, 0, -1, 1]]))
    seed_term, ex_term, ex_den = stats.variance_terms(one, 0.01)
    assert float(seed_term) == 0.01
    assert float(ex_term) == pytest.approx(float(one.ms_example) / 4)
    assert float(ex_den) == pytest.approx((float(one.ms_example) / 4) ** 2 / 3)


def test_test_results_share_one_set_of_fields() -> None:
    shared = [f.name for f in dataclasses.fields(stats.GainTestArrays)]
    for cls in (stats.CrossedTestArrays, stats.FamilyArrays):
        assert issubclass(cls, stats.GainTestArrays)
        assert [f.name for f in dataclasses.fields(cls)][: len(shared)] == shared
    assert set(shared) <= {f.name for f in dataclasses.fields(stats.PairTest)}


# --------------------------------------------------------------------------- Wilcoxon


def test_one_wilcoxon_rule_for_library_and_significance_csv() -> None:
    from benchmark.analysis import significance

    assert 2 / 2**stats.MIN_SEEDS_WILCOXON < 0.05 <= 2 / 2 ** (stats.MIN_SEEDS_WILCOXON - 1)
    assert not hasattr(significance, "MIN_SEEDS_WILCOXON_REPORTED")
    rng = np.random.default_rng(3)
    for n_seeds, rows in ((stats.MIN_SEEDS_WILCOXON - 1, 0), (stats.MIN_SEEDS_WILCOXON, 1)):
        pair = significance.PairSample(
            suite="s", method="m", source="a", target="b", budget=100, seeds=tuple(range(n_seeds)),
            correct_method=rng.random((n_seeds, 50)) < 0.8, correct_ref=rng.random((n_seeds, 50)) < 0.6)
        assert len(significance.wilcoxon_rows(pair)) == rows
        assert (stats.wilcoxon_seeds([0.8] * n_seeds, [0.7] * n_seeds) is None) == (rows == 0)


# --------------------------------------------------------------------------- settings


def test_analysis_settings_defaults_and_validation() -> None:
    assert stats.DEFAULTS == stats.AnalysisSettings(alpha=0.05, correction="bh", margin=0.01)
    assert (stats.DEFAULT_ALPHA, stats.DEFAULT_CORRECTION, stats.DEFAULT_MARGIN) == (0.05, "bh", 0.01)
    assert stats.AnalysisSettings(correction=" Holm ").correction == "holm"
    with pytest.raises(ValueError, match="did you mean 'holm'"):
        stats.AnalysisSettings(correction="hlom")
    for bad in (0.0, 1.0, 1.5, -0.1, math.nan, "0.05", True):
        with pytest.raises(ValueError, match="alpha must be"):
            stats.AnalysisSettings(alpha=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="margin must be"):
            stats.AnalysisSettings(margin=bad)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.DEFAULTS.alpha = 0.1  # type: ignore[misc]


def test_every_entry_point_reads_the_one_default() -> None:
    import inspect

    from benchmark.analysis import leaderboard, outputs
    from benchmark.pipeline import RunRequest, sequential

    args = build_parser().parse_args(["leaderboard"])
    assert (args.alpha, args.correction, args.margin) == (0.05, "bh", 0.01)
    # The product's entry points take one settings object whose default is DEFAULTS.
    for fn in (leaderboard.compute_leaderboards, leaderboard.build_leaderboards, outputs.refresh_outputs,
               sequential.run_until_decided, RunRequest):
        assert inspect.signature(fn).parameters["settings"].default is stats.DEFAULTS
    for fn in (sim.run_until_decided,):
        params = inspect.signature(fn).parameters
        assert params["alpha"].default is stats.DEFAULTS.alpha
        assert params["correction"].default is stats.DEFAULTS.correction
        assert params["margin"].default is stats.DEFAULTS.margin
    for fn in (stats.crossed_t_test, stats.crossed_family_test, stats.crossed_family_arrays):
        params = inspect.signature(fn).parameters
        assert params["margin"].default is stats.DEFAULTS.margin
        assert params["threshold_alpha"].default is stats.DEFAULTS.alpha
