"""Reference-value tests for benchmark.analysis.stats: each pins a function against scipy, sklearn or
a value computed by hand (the arithmetic is in the comments). Simulation-based validity
tests (A/A error rate, coverage, power) live in test_stats_validity.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import f1_score

from benchmark.analysis import stats
from benchmark.analysis.stats.paired import _bootstrap_sums, crossed_replicate_sums

# --------------------------------------------------------------------------- metrics


def test_accuracy_hand_value() -> None:
    # 3 of 5 predictions match.
    assert stats.accuracy([0, 1, 2, 1, 0], [0, 1, 1, 1, 2]) == pytest.approx(0.6)
    assert stats.accuracy(["a", "b"], ["a", "b"]) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_macro_f1_matches_sklearn_random(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 5, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 6, size=200))
    expected = f1_score(y_true, y_pred, average="macro")
    assert stats.macro_f1(y_true, y_pred) == pytest.approx(expected, abs=1e-12)


def test_macro_f1_hand_value_and_string_labels() -> None:
    # class a: TP=1 FP=1 FN=1 -> F1 = 2/(2+1+1) = 0.5; class b: TP=1 FP=1 FN=1 -> 0.5;
    # class c: TP=1 FP=0 FN=0 -> 1. Macro = 2/3.
    y_true = ["a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "a", "b", "c"]
    assert stats.macro_f1(y_true, y_pred) == pytest.approx(2 / 3)
    assert stats.macro_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="macro")
    )


def test_macro_f1_explicit_labels_match_sklearn() -> None:
    y_true = [0, 1, 1, 3, 3, 0]
    y_pred = [0, 1, 0, 0, 3, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the label absent everywhere
        for labels in ([0, 1, 2], [0, 1], [3, 0, 1, 2, 7], [1]):
            expected = f1_score(y_true, y_pred, average="macro", labels=labels)
            assert stats.macro_f1(y_true, y_pred, labels=labels) == pytest.approx(expected)


def test_metric_input_errors() -> None:
    with pytest.raises(ValueError, match="same shape"):
        stats.accuracy([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        stats.accuracy([], [])
    with pytest.raises(ValueError, match="duplicates"):
        stats.macro_f1([0, 1], [0, 1], labels=[0, 0])


def test_gain_hand_values() -> None:
    # means 0.80 and 0.75 -> gain 0.05; relative 0.05 / 0.75 = 1/15.
    acc_m, acc_r = [0.79, 0.81, 0.80], [0.74, 0.75, 0.76]
    assert stats.transfer_gain(acc_m, acc_r) == pytest.approx(0.05)
    assert stats.relative_gain(acc_m, acc_r) == pytest.approx(1 / 15)
    assert stats.negative_transfer_gap(0.05) == pytest.approx(-0.05)
    np.testing.assert_allclose(stats.negative_transfer_gap(np.array([0.1, -0.2])), [-0.1, 0.2])
    with pytest.raises(ValueError, match="same shape"):
        stats.transfer_gain([0.8, 0.7], [0.7])
    with pytest.raises(ValueError, match="empty"):
        stats.transfer_gain([], [])
    with pytest.raises(ValueError, match="reference accuracy is 0"):
        stats.relative_gain([0.1], [0.0])


def test_accuracies_from_correct() -> None:
    np.testing.assert_allclose(
        stats.accuracies_from_correct([[1, 0, 1, 1], [0, 0, 0, 1]]), [0.75, 0.25]
    )


# --------------------------------------------------------------------------- McNemar


def test_mcnemar_hand_value() -> None:
    # Pairs (method, ref): 7 x (1, 0), 1 x (0, 1), 3 x (1, 1), 2 x (0, 0).
    # Discordant b = 7, c = 1, n = 8. Two-sided exact binomial p with p0 = 1/2:
    # P(X <= 1) = (C(8,0) + C(8,1)) / 2**8 = 9/256, doubled (symmetric) = 18/256 = 0.0703125.
    method = [1] * 7 + [0] + [1] * 3 + [0] * 2
    ref = [0] * 7 + [1] + [1] * 3 + [0] * 2
    res = stats.mcnemar_exact(method, ref)
    assert (res.n_method_only, res.n_ref_only) == (7, 1)
    assert res.p_value == pytest.approx(18 / 256)
    assert res.p_value == pytest.approx(scipy.stats.binomtest(7, 8, 0.5).pvalue)


def test_mcnemar_matches_binomtest_and_no_discordant() -> None:
    rng = np.random.default_rng(3)
    method = rng.random(500) < 0.72
    ref = rng.random(500) < 0.70
    res = stats.mcnemar_exact(method, ref)
    b = int(np.sum(method & ~ref))
    c = int(np.sum(~method & ref))
    assert (res.n_method_only, res.n_ref_only) == (b, c)
    assert res.p_value == pytest.approx(scipy.stats.binomtest(b, b + c, 0.5).pvalue)
    same = stats.mcnemar_exact([True, False, True], [True, False, True])
    assert same == stats.McNemarResult(0, 0, 1.0)
    per_seed = stats.mcnemar_per_seed(np.stack([method, ref]), np.stack([ref, method]))
    assert per_seed[0] == res
    assert (per_seed[1].n_method_only, per_seed[1].n_ref_only) == (c, b)
    with pytest.raises(ValueError, match="mcnemar_per_seed"):
        stats.mcnemar_exact(np.ones((2, 3)), np.ones((2, 3)))


# --------------------------------------------------------------------------- Wilcoxon


def test_wilcoxon_matches_scipy() -> None:
    # Accuracies k / 1000 as a run produces them. Count differences: 12, -2, 15, 8, 19, -12, -3
    # (|12| is tied: W- = 1 + 2 + 4.5 = 7.5). scipy on the integer differences is the
    # noise-free reference; as floats |0.680 - 0.692| != |0.712 - 0.700|, which would break the
    # tie (scipy on the raw floats gives W- = 7, p = 0.297), so the function must round first.
    k_m = np.array([712, 705, 731, 698, 720, 680, 709])
    k_r = np.array([700, 707, 716, 690, 701, 692, 712])
    acc_m, acc_r = k_m / 1000, k_r / 1000
    assert abs((acc_m - acc_r)[0]) != abs((acc_m - acc_r)[5])
    res = stats.wilcoxon_seeds(acc_m, acc_r)
    ref = scipy.stats.wilcoxon(k_m - k_r)
    assert res is not None
    assert res.statistic == pytest.approx(float(ref.statistic))
    assert res.p_value == pytest.approx(float(ref.pvalue))
    assert res.n_seeds == 7
    # No ties: identical to scipy on the raw accuracies.
    acc_m2 = np.array([0.81, 0.79, 0.84, 0.77, 0.80, 0.83])
    acc_r2 = np.array([0.70, 0.75, 0.72, 0.78, 0.73, 0.765])
    res2 = stats.wilcoxon_seeds(acc_m2, acc_r2)
    assert res2 is not None
    assert res2.p_value == pytest.approx(float(scipy.stats.wilcoxon(acc_m2, acc_r2).pvalue))


def test_wilcoxon_hand_value_and_thresholds() -> None:
    # 6 seeds, every difference positive: W- = 0; exact two-sided p = 2 / 2**6 = 0.03125.
    res = stats.wilcoxon_seeds([0.8, 0.81, 0.82, 0.83, 0.84, 0.85], [0.7] * 6)
    assert res is not None
    assert res.statistic == 0.0
    assert res.p_value == pytest.approx(2 / 64)
    # 5 seeds: the smallest exact p is 2 / 2**5 = 0.0625 > 0.05, so no test is run.
    assert stats.MIN_SEEDS_WILCOXON == 6
    assert stats.wilcoxon_seeds([0.8, 0.81, 0.82, 0.83, 0.84], [0.7] * 5) is None
    assert stats.wilcoxon_seeds([0.8] * 4, [0.7] * 4) is None


@pytest.mark.filterwarnings("error")
def test_wilcoxon_all_zero_differences() -> None:
    res = stats.wilcoxon_seeds([0.7] * 6, [0.7] * 6)
    assert res == stats.WilcoxonResult(statistic=0.0, p_value=1.0, n_seeds=6)


# --------------------------------------------------------------------------- adjustment

P_FAMILY = [0.01, 0.04, 0.03, 0.005, 0.20]


def test_holm_hand_values() -> None:
    # m = 5. Sorted: 0.005 (#4), 0.01 (#1), 0.03 (#3), 0.04 (#2), 0.20 (#5).
    # Multipliers m - k + 1 = 5, 4, 3, 2, 1:
    #   5*0.005 = 0.025, 4*0.01 = 0.04, 3*0.03 = 0.09, 2*0.04 = 0.08, 1*0.20 = 0.20.
    # Running maximum (step-down monotonicity): 0.025, 0.04, 0.09, 0.09, 0.20.
    # Back in input order: [0.04, 0.09, 0.09, 0.025, 0.20] (= statsmodels multipletests holm).
    expected = [0.04, 0.09, 0.09, 0.025, 0.20]
    np.testing.assert_allclose(stats.adjust_pvalues(P_FAMILY, "holm"), expected, rtol=1e-12)
    np.testing.assert_allclose(stats.adjust_pvalues(P_FAMILY), expected, rtol=1e-12)


def test_holm_caps_at_one() -> None:
    # m = 3, sorted 0.4, 0.5, 0.9: 3*0.4 = 1.2, 2*0.5 = 1.0, 0.9 -> running max 1.2, 1.2, 1.2
    # -> capped at 1 everywhere.
    np.testing.assert_allclose(stats.adjust_pvalues([0.9, 0.4, 0.5], "holm"), [1.0, 1.0, 1.0])


def test_bh_hand_values() -> None:
    # m = 5, sorted p(k) and p(k) * m / k:
    #   0.005*5/1 = 0.025, 0.01*5/2 = 0.025, 0.03*5/3 = 0.05, 0.04*5/4 = 0.05, 0.20*5/5 = 0.20.
    # Running minimum from the largest: 0.20, 0.05, 0.05, 0.025, 0.025 (already monotone).
    # Input order: [0.025, 0.05, 0.05, 0.025, 0.20] (= statsmodels multipletests fdr_bh).
    expected = [0.025, 0.05, 0.05, 0.025, 0.20]
    np.testing.assert_allclose(stats.adjust_pvalues(P_FAMILY, "bh"), expected, rtol=1e-12)
    # Step-up minimum matters: [0.02, 0.021, 0.1], m = 3:
    #   0.02*3/1 = 0.06, 0.021*3/2 = 0.0315, 0.1*3/3 = 0.1 -> running min from the top:
    #   0.1, 0.0315, min(0.06, 0.0315) = 0.0315.
    np.testing.assert_allclose(
        stats.adjust_pvalues([0.02, 0.021, 0.1], "BH"), [0.0315, 0.0315, 0.1], rtol=1e-12
    )


def test_adjust_nan_passthrough_and_family_size() -> None:
    # NaN is not a test: Holm over m = 2 -> 0.01*2 = 0.02, 0.04*1 = 0.04.
    out = stats.adjust_pvalues([0.01, np.nan, 0.04], "holm")
    np.testing.assert_allclose(out, [0.02, np.nan, 0.04])
    # BH over m = 2: 0.01*2/1 = 0.02, 0.04*2/2 = 0.04.
    np.testing.assert_allclose(
        stats.adjust_pvalues([np.nan, 0.01, 0.04], "bh"), [np.nan, 0.02, 0.04]
    )
    np.testing.assert_allclose(stats.adjust_pvalues([0.3, np.nan], "none"), [0.3, np.nan])
    assert stats.adjust_pvalues([], "holm").shape == (0,)
    assert np.isnan(stats.adjust_pvalues([np.nan], "bh")).all()


def test_adjust_properties_random_family() -> None:
    p = np.random.default_rng(5).random(40) ** 3
    for method in stats.CORRECTIONS:
        adj = stats.adjust_pvalues(p, method)
        assert np.all(adj >= p - 1e-15) and np.all(adj <= 1.0)
        order = np.argsort(p)
        assert np.all(np.diff(adj[order]) >= -1e-15)  # monotone in p
    np.testing.assert_allclose(
        stats.adjust_pvalues(p, "bh"), scipy.stats.false_discovery_control(p, method="bh")
    )


def test_adjust_errors() -> None:
    with pytest.raises(ValueError, match="did you mean 'holm'"):
        stats.adjust_pvalues(P_FAMILY, "hlom")
    with pytest.raises(ValueError, match="unknown correction 'bonferoni'"):
        stats.adjust_pvalues(P_FAMILY, "bonferoni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.adjust_pvalues([0.1, 1.2])
    with pytest.raises(ValueError, match="1-D"):
        stats.adjust_pvalues([[0.1, 0.2]])


# --------------------------------------------------------------------------- verdicts


@pytest.mark.parametrize(
    ("gain", "p", "expected"),
    [
        (0.02, 0.01, "positive"),
        (-0.02, 0.01, "negative"),
        (0.02, 0.05, "inconclusive"),  # p must be strictly below alpha
        (-0.02, 0.5, "inconclusive"),
        (0.0, 0.0, "inconclusive"),
        (0.02, float("nan"), "inconclusive"),
        (float("nan"), 0.01, "inconclusive"),
    ],
)
def test_verdict_table(gain: float, p: float, expected: str) -> None:
    assert stats.verdict(gain, p) == expected
    assert stats.verdicts([gain], [p]).tolist() == [expected]


def test_verdicts_vectorised_and_errors() -> None:
    gains = np.array([0.1, -0.1, 0.1, -0.1, 0.05])
    p_adj = np.array([0.001, 0.001, 0.2, 0.2, 0.009])
    out = stats.verdicts(gains, p_adj, alpha=0.01)
    assert out.tolist() == ["positive", "negative", "inconclusive", "inconclusive", "positive"]
    assert out.tolist() == [stats.verdict(g, p, 0.01) for g, p in zip(gains, p_adj, strict=True)]
    for alpha in (0.0, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            stats.verdict(0.1, 0.01, alpha)
        with pytest.raises(ValueError, match="alpha"):
            stats.verdicts([0.1], [0.01], alpha)
    with pytest.raises(ValueError, match="same shape"):
        stats.verdicts([0.1, 0.2], [0.01])


def test_verdicts_with_equivalence() -> None:
    gains = [0.02, -0.02, 0.001, 0.001, 0.003]
    p_adj = [0.01, 0.01, 0.5, 0.5, 0.01]
    p_eq = [0.9, 0.9, 0.01, 0.2, 0.01]  # a significant gain stays positive even if equivalent
    assert stats.verdicts(gains, p_adj, 0.05, p_eq).tolist() == [
        "positive", "negative", "equivalent", "inconclusive", "positive"]


def test_win_tie_loss_and_rate() -> None:
    v = ["positive", "negative", "inconclusive", "positive", "negative", "negative", "equivalent"]
    assert stats.win_tie_loss(v) == (2, 1, 3)  # ties are equivalent pairs, not inconclusive ones
    assert stats.verdict_counts(v) == {"positive": 2, "equivalent": 1, "inconclusive": 1, "negative": 3}
    assert stats.negative_transfer_rate(v) == pytest.approx(3 / 7)
    assert stats.win_tie_loss([]) == (0, 0, 0)
    with pytest.raises(ValueError, match="unknown verdict 'postive'"):
        stats.win_tie_loss(["positive", "postive"])


# --------------------------------------------------------------------------- bootstrap


def test_crossed_replicate_sums_equal_explicit_resampling() -> None:
    # The pattern/multinomial algebra must equal drawing seed and example indices and
    # averaging d over the drawn seeds x drawn examples grid.
    rng = np.random.default_rng(11)
    d = rng.integers(-1, 2, size=(4, 37)).astype(np.int8)
    patterns, inverse, counts = np.unique(d, axis=1, return_inverse=True, return_counts=True)
    assert counts.sum() == 37
    for _ in range(50):
        seeds = rng.integers(0, 4, size=4)
        examples = rng.integers(0, 37, size=37)
        naive = int(d[np.ix_(seeds, examples)].sum())
        seed_counts = np.bincount(seeds, minlength=4)[None, :]
        pattern_counts = np.bincount(inverse.reshape(-1)[examples], minlength=patterns.shape[1])
        got = crossed_replicate_sums(
            patterns.astype(np.int64), seed_counts, pattern_counts[None, :]
        )
        assert int(got[0]) == naive


@pytest.mark.parametrize("shape", [(3, 400), (12, 60)])  # pattern path and index path
def test_bootstrap_variance_matches_exact_formula(shape: tuple[int, int]) -> None:
    # theta* = c' D m / (S N), c ~ Mult(S, 1/S) and m ~ Mult(N, 1/N) independent, so
    # E[c c'] = I - J/S + J, E[m m'] = I - J/N + J and
    # Var(c' D m) = tr(E[c c'] D E[m m'] D') - (1' D 1)^2.  B = 20,000 replicates estimate the
    # variance with relative standard error ~ sqrt(2 / B) = 1%; tolerance 5%.
    n_seeds, n_examples = shape
    rng = np.random.default_rng(7)
    base = rng.random(n_examples)
    method = rng.random(shape) < np.clip(base + 0.1, 0, 1)
    ref = rng.random(shape) < base
    d = method.astype(np.int8) - ref.astype(np.int8)
    a = np.eye(n_seeds) - 1 / n_seeds + 1
    b = np.eye(n_examples) - 1 / n_examples + 1
    df = d.astype(float)
    exact_var = (np.trace(a @ df @ b @ df.T) - df.sum() ** 2) / (n_seeds * n_examples) ** 2
    sums = _bootstrap_sums(d, np.random.default_rng(8), 20_000)
    theta = sums / d.size
    assert theta.var() == pytest.approx(exact_var, rel=0.05)
    assert theta.mean() == pytest.approx(d.mean(), abs=4 * np.sqrt(exact_var / 20_000))


def test_bootstrap_single_seed_matches_scipy_percentile() -> None:
    # S = 1: the hierarchical bootstrap is the ordinary example bootstrap of mean(d).
    rng = np.random.default_rng(21)
    method = rng.random(250) < 0.75
    ref = rng.random(250) < 0.70
    res = stats.hierarchical_bootstrap(
        method, ref, rng=np.random.default_rng(1), n_resamples=20_000
    )
    d = method.astype(float) - ref.astype(float)
    ref_ci = scipy.stats.bootstrap(
        (d,), np.mean, n_resamples=20_000, method="percentile", rng=np.random.default_rng(2)
    ).confidence_interval
    assert res.estimate == pytest.approx(d.mean())
    # Monte Carlo error of a 2.5% quantile with B = 20,000 is ~0.001 here.
    assert res.ci_low == pytest.approx(ref_ci.low, abs=0.005)
    assert res.ci_high == pytest.approx(ref_ci.high, abs=0.005)


def test_bootstrap_degenerate_hand_values() -> None:
    # No difference anywhere: every replicate is 0 -> CI [0, 0], p = (B + 1)/(B + 1) = 1.
    same = np.ones((3, 20), dtype=bool)
    res = stats.hierarchical_bootstrap(same, same, rng=np.random.default_rng(0), n_resamples=99)
    assert res == stats.BootstrapResult(0.0, 0.0, 0.0, 1.0, 99)
    # Method always right, reference always wrong: every replicate is 1, so no
    # |theta* - 1| >= 1 and p = (0 + 1)/(99 + 1) = 0.01.
    res = stats.hierarchical_bootstrap(same, ~same, rng=np.random.default_rng(0), n_resamples=99)
    assert res == stats.BootstrapResult(1.0, 1.0, 1.0, 0.01, 99)


def test_bootstrap_estimate_equals_gain_and_ci_brackets_it() -> None:
    rng = np.random.default_rng(4)
    method = rng.random((5, 300)) < 0.78
    ref = rng.random((5, 300)) < 0.70
    res = stats.hierarchical_bootstrap(method, ref, rng=np.random.default_rng(0), n_resamples=2000)
    gain = stats.transfer_gain(method.mean(axis=1), ref.mean(axis=1))
    assert res.estimate == pytest.approx(gain)
    assert res.ci_low < res.estimate < res.ci_high
    assert res.n_resamples == 2000


def test_paired_input_errors() -> None:
    good = np.ones((2, 5), dtype=bool)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same shape"):
        stats.hierarchical_bootstrap(good, good[:, :4], rng=rng)
    with pytest.raises(ValueError, match="empty"):
        stats.sign_flip_test(np.ones((2, 0)), np.ones((2, 0)), rng=rng)
    with pytest.raises(ValueError, match="only 0/1"):
        stats.hierarchical_bootstrap(good * 0.5, good, rng=rng)
    with pytest.raises(ValueError, match="confidence"):
        stats.hierarchical_bootstrap(good, good, rng=rng, confidence=95)
    with pytest.raises(ValueError, match="n_resamples"):
        stats.hierarchical_bootstrap(good, good, rng=rng, n_resamples=0)
    with pytest.raises(ValueError, match="n_seeds, n_examples"):
        stats.hierarchical_bootstrap(np.ones((2, 2, 2)), np.ones((2, 2, 2)), rng=rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        stats.hierarchical_bootstrap(good, good, rng=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        stats.sign_flip_test(good, good, rng=np.random.RandomState(0))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sign flip


def test_sign_flip_matches_scipy_exact_permutation_test() -> None:
    # 2 seeds x 14 examples -> dbar(i) in {-1, -0.5, 0, 0.5, 1}; scipy enumerates all 2**14
    # within-pair swaps exactly. Monte Carlo with B = 40,000: standard error <= 0.0025.
    method = np.array(
        [[1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1], [1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]]
    )
    ref = np.array(
        [[0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1], [1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0]]
    )
    dbar = stats.paired_example_differences(method, ref)
    exact = scipy.stats.permutation_test(
        (dbar, np.zeros_like(dbar)),
        lambda x, y: np.mean(x - y),
        permutation_type="samples",
        n_resamples=np.inf,
        alternative="two-sided",
    ).pvalue
    res = stats.sign_flip_test(method, ref, rng=np.random.default_rng(0), n_permutations=40_000)
    assert 0.05 < exact < 0.5  # a p-value where the comparison has teeth
    assert res.p_value == pytest.approx(exact, abs=0.01)
    assert res.statistic == pytest.approx(dbar.mean())
    assert res.n_permutations == 40_000


def test_sign_flip_degenerate_hand_values() -> None:
    same = np.zeros((2, 10), dtype=bool)
    res = stats.sign_flip_test(same, same, rng=np.random.default_rng(0), n_permutations=99)
    assert res == stats.PermutationResult(0.0, 1.0, 99)
    # 12 examples all won by the method: only the all-positive sign vector (prob 2**-12) is as
    # extreme on the same side, so p ~ 2 * 2**-12 ~ 0.0005 -> with B = 999 nearly always
    # p = (0 + 1) / 1000 = 0.001.
    res = stats.sign_flip_test(
        np.ones(12, dtype=bool),
        np.zeros(12, dtype=bool),
        rng=np.random.default_rng(0),
        n_permutations=999,
    )
    assert res.statistic == 1.0
    assert res.p_value <= 0.003


# --------------------------------------------------------------------------- aggregates


def test_iqm_hand_and_scipy() -> None:
    # 8 scores: cut floor(8/4) = 2 from each end -> mean(2, 3, 4, 5) = 3.5 (100 is trimmed).
    assert stats.iqm([0, 1, 2, 3, 4, 5, 6, 100]) == pytest.approx(3.5)
    x = np.random.default_rng(0).normal(size=(5, 7))
    assert stats.iqm(x) == pytest.approx(scipy.stats.trim_mean(x.ravel(), 0.25))
    # Ragged per-pair arrays are pooled: same 8 scores as above.
    assert stats.iqm([np.array([0, 1, 2]), np.array([3, 4, 5, 6, 100])]) == pytest.approx(3.5)
    with pytest.raises(ValueError, match="empty"):
        stats.iqm([])


def test_stratified_bootstrap_resamples_within_strata() -> None:
    # Constant within each stratum: resampling inside strata can never change the pooled
    # mean (3*1 + 2*5) / 5 = 2.6, so the interval is degenerate. A bootstrap that mixed
    # strata would not be.
    strata = [np.array([1.0, 1.0, 1.0]), np.array([5.0, 5.0])]
    est, low, high = stats.stratified_bootstrap_ci(
        strata, stats.pooled_mean, rng=np.random.default_rng(0), n_resamples=200
    )
    assert (est, low, high) == pytest.approx((2.6, 2.6, 2.6))


def test_stratified_bootstrap_single_stratum_matches_scipy() -> None:
    x = np.random.default_rng(9).normal(0.02, 0.03, size=40)
    est, low, high = stats.stratified_bootstrap_ci(
        [x], stats.pooled_mean, rng=np.random.default_rng(1), n_resamples=10_000
    )
    ref = scipy.stats.bootstrap(
        (x,), np.mean, n_resamples=10_000, method="percentile", rng=np.random.default_rng(2)
    ).confidence_interval
    assert est == pytest.approx(x.mean())
    assert low == pytest.approx(ref.low, abs=0.002)
    assert high == pytest.approx(ref.high, abs=0.002)


def test_stratified_bootstrap_deterministic_and_iqm() -> None:
    rng = np.random.default_rng(3)
    strata = [rng.normal(m, 0.01, size=5) for m in (0.01, -0.02, 0.03, 0.0, 0.05)]
    a = stats.stratified_bootstrap_ci(strata, stats.iqm, rng=np.random.default_rng(5))
    b = stats.stratified_bootstrap_ci(strata, stats.iqm, rng=np.random.default_rng(5))
    c = stats.stratified_bootstrap_ci(strata, stats.mean_of_means, rng=np.random.default_rng(5))
    assert a == b
    assert a[0] == pytest.approx(stats.iqm(strata))
    assert a[1] < a[0] < a[2]
    assert c[0] == pytest.approx(np.mean([s.mean() for s in strata]))
    with pytest.raises(ValueError, match="scores\\[1\\]"):
        stats.stratified_bootstrap_ci([[0.1], []], stats.iqm, rng=np.random.default_rng(0))


def test_probability_of_improvement_hand_value() -> None:
    # Task 1: x = [1, 2, 3], y = [2, 2]: pairs x>y: (3,2) x2 = 2; ties (2,2) x2 = 2 * 0.5 = 1;
    # -> 3 / 6 = 0.5. Task 2: x = [5, 6, 7] all above y = [1, 1] -> 1. Mean = 0.75.
    x = [np.array([1.0, 2.0, 3.0]), np.array([5.0, 6.0, 7.0])]
    y = [np.array([2.0, 2.0]), np.array([1.0, 1.0])]
    assert stats.probability_of_improvement(x, y) == pytest.approx(0.75)


def test_probability_of_improvement_matches_mann_whitney() -> None:
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(0.72, 0.01, size=(5, 4)), 2)  # (runs, tasks), with ties
    y = np.round(rng.normal(0.71, 0.01, size=(6, 4)), 2)
    expected = np.mean(
        [scipy.stats.mannwhitneyu(x[:, t], y[:, t]).statistic / 30 for t in range(4)]
    )
    assert stats.probability_of_improvement(x, y) == pytest.approx(expected)
    as_lists = stats.probability_of_improvement(list(x.T), list(y.T))
    assert as_lists == pytest.approx(expected)
    assert stats.probability_of_improvement(y, x) == pytest.approx(1 - expected)
    with pytest.raises(ValueError, match="same tasks"):
        stats.probability_of_improvement(x, y[:, :3])


def test_mean_rank_with_ties() -> None:
    # Task 1 scores (0.9, 0.9, 0.8): ranks 1.5, 1.5, 3. Task 2 (0.5, 0.7, 0.7): 3, 1.5, 1.5.
    # Means: (1.5+3)/2 = 2.25, (1.5+1.5)/2 = 1.5, (3+1.5)/2 = 2.25.
    scores = [[0.9, 0.5], [0.9, 0.7], [0.8, 0.7]]
    np.testing.assert_allclose(stats.mean_rank(scores), [2.25, 1.5, 2.25])
    # Lower is better (e.g. error rates): ranks flip to 2.5/1.5... task 1: 0.8 best -> 1,
    # 0.9s -> 2.5, 2.5; task 2: 0.5 best -> 1, 0.7s -> 2.5, 2.5. Means 1.75, 2.5, 1.75.
    np.testing.assert_allclose(stats.mean_rank(scores, higher_is_better=False), [1.75, 2.5, 1.75])


def test_mean_rank_nan_policies() -> None:
    # Method 0 misses task 2.
    scores = [[0.9, np.nan], [0.9, 0.7], [0.8, 0.6]]
    # worst: task 2 ranks (missing last) 3, 1, 2; task 1: 1.5, 1.5, 3 -> 2.25, 1.25, 2.5.
    np.testing.assert_allclose(stats.mean_rank(scores), [2.25, 1.25, 2.5])
    # omit: method 0 averages task 1 only (1.5); task 2 ranked among methods 1, 2 -> 1, 2.
    np.testing.assert_allclose(stats.mean_rank(scores, nan_policy="omit"), [1.5, 1.25, 2.5])
    all_missing = stats.mean_rank([[np.nan, np.nan], [0.1, 0.2]], nan_policy="omit")
    assert np.isnan(all_missing[0]) and all_missing[1] == 1.0
    with pytest.raises(ValueError, match="NaN"):
        stats.mean_rank(scores, nan_policy="raise")
    with pytest.raises(ValueError, match="did you mean 'omit'"):
        stats.mean_rank(scores, nan_policy="omitt")
    with pytest.raises(ValueError, match="n_methods, n_tasks"):
        stats.mean_rank([0.1, 0.2])


def test_crossed_mean_interval_matches_the_variance_components_by_hand() -> None:
    # Two independent blocks; Var(mean X) = (MS_seed + MS_example - MS_interaction) / (S N),
    # here computed from the textbook sums of squares with explicit loops over cells.
    rng = np.random.default_rng(5)
    blocks = []
    for s, n, low in ((3, 40, -1), (5, 30, 0)):  # persistent example effects plus seed churn
        base = rng.integers(low, 2, size=n)
        blocks.append(np.where(rng.random((s, n)) < 0.25, rng.integers(low, 2, size=(s, n)), base))
    weights = [0.25, 0.75]
    variance = 0.0
    terms = []
    for x, w in zip(blocks, weights, strict=True):
        s, n = x.shape
        grand = x.mean()
        ss_seed = n * sum((x[i].mean() - grand) ** 2 for i in range(s))
        ss_ex = s * sum((x[:, j].mean() - grand) ** 2 for j in range(n))
        ss_int = sum((x[i, j] - x[i].mean() - x[:, j].mean() + grand) ** 2 for i in range(s) for j in range(n))
        ms = (ss_seed / (s - 1), ss_ex / (n - 1), ss_int / ((s - 1) * (n - 1)))
        assert ms[1] > ms[2]  # the example term is not truncated in this draw
        parts = [w * w * ms[0] / (s * n), w * w * ms[1] / (s * n), -w * w * ms[2] / (s * n)]
        variance += sum(parts)
        terms += [(parts[0], s - 1), (parts[1], n - 1), (parts[2], (s - 1) * (n - 1))]
    df = variance**2 / sum(t**2 / d for t, d in terms)
    iv = stats.crossed_mean_interval(blocks, weights)
    estimate = sum(w * x.mean() for x, w in zip(blocks, weights, strict=True))
    assert iv.estimate == pytest.approx(estimate)
    assert iv.se == pytest.approx(np.sqrt(variance)) and iv.df == pytest.approx(df)
    half = scipy.stats.t.ppf(0.975, df) * np.sqrt(variance)
    assert (iv.ci_low, iv.ci_high) == pytest.approx((estimate - half, estimate + half))
    assert np.isnan(stats.crossed_mean_interval([blocks[0][:1]], [1.0]).se)  # one seed: unknown
