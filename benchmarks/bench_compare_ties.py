"""Do the ranking's tie groups hold their error rate? (``compare``, issue 25)

Simulates K systems on one task with the crossed seeds x examples model of
:mod:`benchmark.analysis.stats.simulate` (K - 1 systems and a shared reference; each
system's true accuracy set by its gain over the reference), runs the ranking's pairwise
tests (:func:`benchmark.analysis.compare.ranking.separation`: moderated crossed t, Holm) and counts:

- ``FWER``: share of data sets in which *any* two systems of equal true accuracy were
  separated (should be <= alpha = 0.05; the upper end of its 95% Clopper-Pearson interval
  is printed beside it);
- ``disjoint``: share in which two equal systems got disjoint rank intervals;
- ``power``: share of unequal pairs separated (scenario ``blocks``).

Scenarios: ``equal`` (all K systems at 80%) and ``blocks`` (half at 80%, half at 83%).

    python benchmarks/bench_compare_ties.py [--reps 400] [--examples 500]
"""

from __future__ import annotations

import argparse
import time
from itertools import combinations

import numpy as np
from scipy import stats as sps

from benchmark.analysis.compare.ranking import rank_intervals, separation
from benchmark.analysis.stats.simulate import crossed_correctness

ALPHA = 0.05


def true_accuracies(scenario: str, k: int) -> np.ndarray:
    """System 0 is the reference (80%); gains of the others."""
    if scenario == "equal":
        return np.zeros(k)
    return np.where(np.arange(k) < k // 2, 0.0, 0.03)


def one_cell(rng: np.random.Generator, regime: str, k: int, seeds: int, examples: int, scenario: str,
             reps: int) -> dict[str, float]:
    gains = true_accuracies(scenario, k)
    index = list(combinations(range(k), 2))
    equal = np.array([gains[i] == gains[j] for i, j in index])
    any_wrong = disjoint = 0
    found = total_unequal = 0
    for _ in range(reps):
        methods, ref = crossed_correctness(rng, seeds, examples, regime=regime, gain=gains[1:], n_methods=k - 1)
        systems = [ref, *methods]
        sep = separation([(systems[i], systems[j]) for i, j in index], index, k, ALPHA)
        hit = sep.separated[tuple(np.array(index).T)]
        any_wrong += bool(np.any(hit & equal))
        acc = np.array([s.mean() for s in systems])
        _, low, high = rank_intervals(acc, sep.separated)
        apart = np.array([high[i] < low[j] or high[j] < low[i] for i, j in index])
        disjoint += bool(np.any(apart & equal))
        found += int(np.sum(hit & ~equal))
        total_unequal += int(np.sum(~equal))
    upper = sps.beta.ppf(0.975, any_wrong + 1, reps - any_wrong) if any_wrong < reps else 1.0
    return {"fwer": any_wrong / reps, "fwer_hi": float(upper), "disjoint": disjoint / reps,
            "power": found / total_unequal if total_unequal else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"alpha {ALPHA}, {args.reps} data sets per row, {args.examples} examples; reference accuracy 0.80")
    print(f"{'regime':<16} {'scenario':<7} {'K':>2} {'seeds':>5} {'FWER':>6} {'(95% hi)':>9} {'disjoint':>8} "
          f"{'power':>6} {'sec':>5}")
    for regime in ("seed-dominated", "balanced", "churn-dominated"):
        for scenario in ("equal", "blocks"):
            for k in (3, 5, 8):
                for seeds in (3, 8):
                    start = time.perf_counter()
                    r = one_cell(rng, regime, k, seeds, args.examples, scenario, args.reps)
                    power = "" if np.isnan(r["power"]) else f"{r['power']:.2f}"
                    print(f"{regime:<16} {scenario:<7} {k:>2} {seeds:>5} {r['fwer']:>6.3f} {r['fwer_hi']:>9.3f} "
                          f"{r['disjoint']:>8.3f} {power:>6} {time.perf_counter() - start:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
