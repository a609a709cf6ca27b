"""Coverage of the descriptive crossed-model intervals (per_task accuracy CI, leaderboard mean-gain CI).

Simulates the crossed seeds x examples design (``stats.simulate``, the calibration regimes),
N = 1000 test examples, accuracy 0.8:
- accuracy: one block, the reference's correctness; the CI must cover 0.8;
- mean gain: 6 targets x 3 methods sharing each target's reference runs, true gain 0; one
  block per target (the sum of the 3 methods' d), weights 1/18; the CI must cover 0.

Prints coverage with its Monte-Carlo standard error. Usage:
    .venv/bin/python benchmarks/bench_pooled_intervals.py [--reps 1500]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from benchmark.analysis.stats import crossed_mean_interval
from benchmark.analysis.stats.simulate import crossed_correctness


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1500)
    reps = parser.parse_args().reps
    n_gain = reps // 5
    print(f"{'regime':16s} S  accuracy-CI coverage (R={reps})   mean-gain-CI coverage (R={n_gain})")
    for regime in ("seed-dominated", "balanced", "churn-dominated"):
        for n_seeds in (3, 5):
            rng = np.random.default_rng(1)
            _, ref = crossed_correctness(rng, n_seeds, 1000, regime=regime, accuracy=0.8, size=(reps,))
            acc_hits = [(iv.ci_low <= 0.8 <= iv.ci_high) for iv in
                        (crossed_mean_interval([ref[r]], [1.0]) for r in range(reps))]
            cm, cr = crossed_correctness(rng, n_seeds, 1000, regime=regime, accuracy=0.8, n_methods=3,
                                         size=(n_gain, 6))
            gain_hits = []
            for r in range(n_gain):
                blocks = [cm[r, t].astype(np.int64).sum(0) - 3 * cr[r, t].astype(np.int64) for t in range(6)]
                iv = crossed_mean_interval(blocks, [1 / 18] * 6)
                gain_hits.append(iv.ci_low <= 0.0 <= iv.ci_high)
            a, g = float(np.mean(acc_hits)), float(np.mean(gain_hits))
            print(f"{regime:16s} {n_seeds}  {a:.3f} ± {math.sqrt(a * (1 - a) / reps):.3f}"
                  f"                     {g:.3f} ± {math.sqrt(g * (1 - g) / n_gain):.3f}", flush=True)


if __name__ == "__main__":
    main()
