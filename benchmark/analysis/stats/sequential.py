"""Sequential looks for adaptive seeds (``run --until-decided --max-seeds K``).

Design. After the planned S0 seeds (look 1), seeds are added one at a time, only to pairs
still undecided, up to K seeds: looks at k = S0, S0 + 1, ..., K seeds. Each look k has a
weight w_k > 0 fixed in advance by (S0, K), sum_k w_k = 1. A pair's sequential p-value is

    p_seq = min(1, min over the looks taken of p_k / w_k),

where p_k is the fixed-sample p-value on the pair's first k seeds (weighted Bonferroni across
looks). Whatever the stopping rule (stop when decided, when the family's correction says so,
or never), P(p_seq <= x) <= sum_k P(p_k <= w_k x) <= x for every x by the union bound, so p_seq
is a valid p-value and any family correction (Holm, BH as usual) can be applied to it. The
same holds for the TOST p-value and for the intervals (intersection of the looks' intervals
at levels 1 - w_k alpha: a confidence sequence). With a single look p_seq = p.

The prior of the moderated test is refitted on the family's current data at every rebuild,
so each p_k depends slightly on how the other pairs were stopped; the simulations in
tests/test_stats_calibration.py check the whole procedure (type-I 0.6-0.7 x alpha per pair,
family-wise error after Holm <= alpha).

Weights (:func:`sequential_weights`): the first look gets ``first_weight`` = 0.1, the last
look ``last_weight`` = 0.6 and the looks in between share the remaining 0.3 equally; with two
looks (0.1, 0.9). Chosen by simulated power (S0 = 3, K = 6, families of 6 targets x 2
sources, N = 1000, alpha = 0.05, BH within the family, a pair stops when decided): at 3
seeds few pairs are decided anyway (power at a 2-point gain with 3 fixed seeds 0.14, with 6
0.42, balanced regime), so weight spent on the first look is mostly wasted. Power at 2
points (balanced / seed-dominated) for (w_1, ..., w_4): (0.25, 0.25, 0.25, 0.25) 0.24 / 0.53,
(0.1, 0.2, 0.3, 0.4) 0.29 / 0.60, (0.15, 0.15, 0.2, 0.5) 0.31 / 0.63, (0.1, 0.1, 0.2, 0.6)
0.33 / 0.66, (0.05, 0.1, 0.15, 0.7) 0.35 / 0.69, with 5.7-5.9 seeds per pair on average
(of 6). At 3 points, (0.1, 0.1, 0.2, 0.6) reaches 0.79 / 0.93 with 5.1 / 4.7 seeds. Moving
more weight to the last look buys a little power for a few more seeds; the default keeps
0.1 on the first look so that large effects still stop at S0 seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import FloatArray, check_count

#: Weight of the first look (S0 seeds) in :func:`sequential_weights`.
DEFAULT_FIRST_WEIGHT = 0.1

#: Weight of the last look (K seeds) in :func:`sequential_weights`.
DEFAULT_LAST_WEIGHT = 0.6


@dataclass(frozen=True)
class SequentialDesign:
    """Looks at first_seeds, first_seeds + 1, ..., max_seeds seeds with fixed weights.

    weights[k] belongs to the look at first_seeds + k seeds; they are > 0 and sum to 1.
    """

    first_seeds: int
    max_seeds: int
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        check_count("first_seeds", self.first_seeds)
        check_count("max_seeds", self.max_seeds)
        if self.max_seeds < self.first_seeds:
            raise ValueError(
                f"max_seeds ({self.max_seeds}) must be >= first_seeds ({self.first_seeds})"
            )
        n = self.max_seeds - self.first_seeds + 1
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights must hold {n} values (one per look), got {len(self.weights)}")
        if np.any(~(w > 0)) or abs(float(w.sum()) - 1.0) > 1e-9:
            raise ValueError("weights must be positive and sum to 1")

    @property
    def looks(self) -> tuple[int, ...]:
        """Seed counts of the looks: (first_seeds, ..., max_seeds)."""
        return tuple(range(self.first_seeds, self.max_seeds + 1))

    def looks_for(self, n_seeds: int) -> tuple[list[int], list[float]]:
        """(seed counts, weights) of the looks a pair with ``n_seeds`` seeds has taken.

        Looks k <= n_seeds; with fewer than first_seeds seeds, one look on all of them with
        the first weight; with more than max_seeds, the last look uses all of them.
        """
        n_seeds = check_count("n_seeds", n_seeds)
        if n_seeds < self.first_seeds:
            return [n_seeds], [self.weights[0]]
        counts = [k for k in self.looks if k <= n_seeds]
        weights = list(self.weights[: len(counts)])
        if n_seeds > self.max_seeds:
            counts[-1] = n_seeds
        return counts, weights


def sequential_weights(
    first_seeds: int,
    max_seeds: int,
    *,
    first_weight: float = DEFAULT_FIRST_WEIGHT,
    last_weight: float = DEFAULT_LAST_WEIGHT,
) -> SequentialDesign:
    """Design with looks at first_seeds..max_seeds seeds and the default weights.

    One look: (1,). Two looks: (first_weight, 1 - first_weight). More: first_weight,
    then the middle looks sharing 1 - first_weight - last_weight equally, then last_weight.
    """
    first_seeds = check_count("first_seeds", first_seeds)
    max_seeds = check_count("max_seeds", max_seeds)
    if max_seeds < first_seeds:
        raise ValueError(f"max_seeds ({max_seeds}) must be >= first_seeds ({first_seeds})")
    first, last = float(first_weight), float(last_weight)
    n_looks = max_seeds - first_seeds + 1
    if n_looks == 1:
        return SequentialDesign(first_seeds, max_seeds, (1.0,))
    if not 0.0 < first < 1.0:
        raise ValueError(f"first_weight must be in (0, 1), got {first_weight!r}")
    if n_looks == 2:
        return SequentialDesign(first_seeds, max_seeds, (first, 1.0 - first))
    if not (0.0 < last < 1.0 and first + last < 1.0):
        raise ValueError(
            f"last_weight must be in (0, 1) with first_weight + last_weight < 1, got {last_weight!r}"
        )
    middle = (1.0 - first - last) / (n_looks - 2)
    return SequentialDesign(first_seeds, max_seeds, (first,) + (middle,) * (n_looks - 2) + (last,))


def sequential_p_value(p_looks: npt.ArrayLike, weights: npt.ArrayLike) -> FloatArray:
    """Weighted-Bonferroni combination of the looks taken. Shapes: (..., L), (..., L) -> (...).

    p_seq = min(1, min_k p_k / w_k) over the looks with a finite weight (NaN weight or p =
    look not taken); NaN when no look was taken.
    """
    p = np.asarray(p_looks, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    p, w = np.broadcast_arrays(p, w)
    if np.any((p < 0) | (p > 1)) or np.any(w <= 0):
        raise ValueError("p_looks must lie in [0, 1] and weights must be > 0 (NaN = not taken)")
    taken = ~(np.isnan(p) | np.isnan(w))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(taken, p / np.where(taken, w, 1.0), np.inf)
    out = np.minimum(1.0, ratio.min(axis=-1))
    out = np.where(taken.any(axis=-1), out, np.nan)
    return np.asarray(out, dtype=np.float64)
