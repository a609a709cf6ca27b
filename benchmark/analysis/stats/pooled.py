"""Interval for a weighted mean over independent crossed blocks (seeds x test examples).

Used for a run group's accuracy (one block: correctness (S, N)) and for a method's mean
gain over its pairs (one block per target: the sum over the method's pairs on that target
of d = correct_method - correct_ref, so pairs that share a target's reference runs and test
examples are counted together, and targets, which share nothing, are independent).

For a block X (S, N), Var(mean X) = sigma2_seed / S + sigma2_example / N +
sigma2_interaction / (S N), estimated by (MS_seed + max(0, MS_example - MS_interaction)) /
(S N) from the two-way mean squares, with the verdict test's formula
(:func:`~benchmark.analysis.stats.crossed.variance_terms`, seed variance MS_seed / N unmoderated).
The estimate sum_b w_b mean(X_b) has variance sum_b w_b^2 V_b, read against a t reference
with Satterthwaite's degrees of freedom. No moderation across blocks: this is a
description of one group's uncertainty, not a family of tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.stats

from benchmark.analysis.stats._validation import check_probability_level
from benchmark.analysis.stats.crossed import crossed_mean_squares, variance_terms


@dataclass(frozen=True)
class MeanInterval:
    """estimate, its standard error, Satterthwaite df and the two-sided interval (NaN when a
    block has a single seed: its seed variance is unknown)."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float


def crossed_mean_interval(
    blocks: Sequence[npt.ArrayLike], weights: Sequence[float], *, confidence: float = 0.95
) -> MeanInterval:
    """Interval for sum_b weights[b] * mean(blocks[b]).

    Shapes: blocks[b] integer / bool (S_b, N_b) with N_b >= 2; weights (B,) finite.
    """
    confidence = check_probability_level("confidence", confidence)
    if len(blocks) != len(weights) or not blocks:
        raise ValueError("blocks and weights must be non-empty and of the same length")
    estimate = variance = 0.0
    denominator = 0.0  # Satterthwaite: sum of term^2 / df
    any_single_seed = False
    for block, w in zip(blocks, weights, strict=True):
        w = float(w)
        if not math.isfinite(w):
            raise ValueError(f"weights must be finite, got {w!r}")
        ms = crossed_mean_squares(np.asarray(block))
        estimate += w * float(ms.gain)
        s = int(ms.n_seeds)
        if s < 2:
            any_single_seed = True
            continue
        # The verdict test's variance with the block's own (unmoderated) seed variance.
        seed_term, ex_term, ex_den = (float(t) for t in variance_terms(ms, ms.ms_seed / ms.n_examples))
        variance += w * w * (seed_term + ex_term)
        denominator += (w * w * seed_term) ** 2 / (s - 1) + w**4 * ex_den
    if any_single_seed:
        return MeanInterval(estimate, math.nan, math.nan, math.nan, math.nan)
    se = math.sqrt(max(variance, 0.0))
    df = variance**2 / denominator if denominator > 0 else math.inf
    if se == 0.0:
        return MeanInterval(estimate, 0.0, df, estimate, estimate)
    half = float(scipy.stats.t.ppf(0.5 + confidence / 2, df)) * se
    return MeanInterval(estimate, se, df, estimate - half, estimate + half)
