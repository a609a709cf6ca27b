"""Coverage of merge_all.csv's normalized-accuracy interval (merged / expert), by simulation.

The interval is ``1 + [ci_low, ci_high] / expert_accuracy`` (:func:`benchmark.analysis.merge_all.
normalized_interval`): the gain's calibrated interval (the verdict test of
:func:`benchmark.analysis.transfer.family_tests`, one pair per target as in a merge-all family)
divided by the observed expert accuracy, which is taken as known. This script draws merged
(method) and expert (reference) correctness from the crossed seeds x examples model of
:func:`benchmark.analysis.stats.simulate.crossed_correctness`, in every variance regime, at 3
and 5 seeds, for no loss, mild and strong interference, at two expert accuracies, and prints
how often the interval covers the true ratio (acc_expert + gain) / acc_expert, beside the gain
interval's own coverage. Target: 95 ± 1.5%.

    .venv/bin/python benchmarks/bench_merge_all.py [--reps 1000] [--examples 2000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from benchmark.analysis.merge_all import normalized_interval
from benchmark.analysis.stats.settings import DEFAULTS
from benchmark.analysis.stats.simulate import REGIMES, crossed_correctness
from benchmark.analysis.transfer import family_tests


def coverage(rng: np.random.Generator, regime: str, seeds: int, examples: int, accuracy: float, gain: float,
             reps: int) -> tuple[float, float, float]:
    """(gain CI coverage, normalized CI coverage, mean normalized CI width) over ``reps`` merged/expert pairs."""
    merged, expert = crossed_correctness(rng, seeds, examples, regime=regime, accuracy=accuracy, gain=gain,
                                         size=(reps,))
    truth = (accuracy + gain) / accuracy
    hits_gain = hits_ratio = 0
    widths = []
    for r in range(reps):
        test = family_tests([(merged[r], expert[r])], ["task"], DEFAULTS, None)[0]
        expert_acc = float(expert[r].mean())
        low, high = normalized_interval(test.ci_low, test.ci_high, expert_acc)
        hits_gain += test.ci_low <= gain <= test.ci_high
        hits_ratio += float(low) <= truth <= float(high)
        widths.append(float(high) - float(low))
    return hits_gain / reps, hits_ratio / reps, float(np.mean(widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    se = math.sqrt(0.95 * 0.05 / args.reps)
    print(f"normalized accuracy CI coverage, {args.reps} merged/expert pairs per row, N = {args.examples}; "
          f"Monte Carlo SE of a 95% coverage: {se:.3f}")
    print(f"{'regime':16} {'seeds':>5} {'expert':>6} {'gain':>6} {'ratio':>6} {'cover(gain)':>11} "
          f"{'cover(ratio)':>12} {'width':>6}")
    t0 = time.perf_counter()
    worst = 1.0
    for regime in REGIMES:
        for seeds in (3, 5):
            for accuracy in (0.9, 0.7):
                for gain in (0.0, -0.05, -0.2):
                    c_gain, c_ratio, width = coverage(rng, regime, seeds, args.examples, accuracy, gain, args.reps)
                    worst = min(worst, c_ratio)
                    print(f"{regime:16} {seeds:>5} {accuracy:>6.2f} {gain:>+6.2f} {(accuracy + gain) / accuracy:>6.3f} "
                          f"{c_gain:>11.3f} {c_ratio:>12.3f} {width:>6.3f}")
    print(f"worst normalized coverage {worst:.3f} (target 0.95 ± 0.015); {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
