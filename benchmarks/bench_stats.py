"""Time the paired significance procedures of benchmark.analysis.stats.

Usage: python benchmarks/bench_stats.py [--seeds 5] [--examples 10000] [--resamples 10000]

Prints wall-clock seconds (best of --repeat runs) for hierarchical_bootstrap and
sign_flip_test on simulated paired correctness (method ~0.72 vs reference ~0.70 accuracy,
independent cells: the worst case for the bootstrap, since every one of the 3**S possible
per-example difference patterns occurs).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from benchmark.analysis.stats import hierarchical_bootstrap, sign_flip_test


def call_seconds(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock time of each of ``repeat`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Smallest wall-clock time of ``repeat`` calls, in seconds."""
    return min(call_seconds(fn, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data_rng = np.random.default_rng(0)
    shape = (args.seeds, args.examples)
    method = data_rng.random(shape) < 0.72
    ref = data_rng.random(shape) < 0.70

    def boot() -> object:
        return hierarchical_bootstrap(
            method, ref, rng=np.random.default_rng(1), n_resamples=args.resamples
        )

    def flip() -> object:
        return sign_flip_test(
            method, ref, rng=np.random.default_rng(1), n_permutations=args.resamples
        )

    print(f"data: {args.seeds} seeds x {args.examples} examples, B = {args.resamples}")
    print(f"hierarchical_bootstrap: {best_time(boot, args.repeat):.3f} s  ->  {boot()}")
    print(f"sign_flip_test:         {best_time(flip, args.repeat):.3f} s  ->  {flip()}")


if __name__ == "__main__":
    main()
