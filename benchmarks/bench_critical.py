"""Calibrated critical values of the crossed test (benchmark.analysis.stats.critical).

Usage: python benchmarks/bench_critical.py [--table]

Default: for seed df nu (on and between the grid) and the levels the verdicts use (alpha =
0.05, the Holm/BH thresholds alpha/6, alpha/18, alpha/36, alpha/100), the worst and the best
exact null rejection rate over rho = (seed part) / (example part) in 1e-3..1e3, as multiples
of the level, for the calibrated rule and for Satterthwaite's plug-in t (the rule before issue
23), and the worst-case coverage of the 95% interval. Exact 1-D integrals (no Monte Carlo).
--table: recompute GAMMA (the largest gamma per (nu, a) whose worst rate is TARGET x a) and
print it in the module's literal form (about 2 minutes on one core).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import scipy.special

from benchmark.analysis.stats.critical import (
    ALPHA_GRID,
    NU_GRID,
    RHO_GRID,
    _quadrature,
    calibrate_gamma,
    gamma_for,
    rejection_rate,
)

LEVELS = (0.05, 0.05 / 6, 0.05 / 18, 0.05 / 36, 0.05 / 100)
NUS = (1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 30.0)


def satterthwaite_rate(nu: float, rho: np.ndarray, alpha: float) -> np.ndarray:
    """Null rejection rate of |gain| / sqrt(u + b) > t_{1-a/2}(df), df = (u + b)^2 / (u^2 / nu), b = 1."""
    x, w = _quadrature(nu)
    u = rho.reshape(-1, 1) * x[None, :]
    with np.errstate(divide="ignore", over="ignore"):
        df = np.where(u > 0, (u + 1.0) ** 2 / (u**2 / nu), np.inf)
    finite_df = np.where(np.isinf(df), 1.0, df)
    t = np.where(np.isinf(df), scipy.special.ndtri(1 - alpha / 2), scipy.special.stdtrit(finite_df, 1 - alpha / 2))
    scale = np.sqrt(u + 1.0) / np.sqrt(rho.reshape(-1, 1) + 1.0)
    out: np.ndarray = (2.0 * scipy.special.ndtr(-t * scale) * w).sum(axis=1)
    return out


def validation() -> None:
    print("Worst / best null rate over rho (x level), calibrated rule | Satterthwaite; worst 95% coverage")
    print(f"{'nu':>5} " + " ".join(f"{f'a={a:.4f}':>23}" for a in LEVELS) + f" {'coverage':>9}")
    for nu in NUS:
        cells = []
        cover = math.nan
        for a in LEVELS:
            r = rejection_rate(nu, RHO_GRID, a, float(gamma_for(nu, a))) / a
            s = satterthwaite_rate(nu, RHO_GRID, a) / a
            cells.append(f"{r.max():5.2f}/{r.min():4.2f} | {s.max():5.2f}/{s.min():4.2f}")
            if a == 0.05:
                cover = 1 - 0.05 * r.min()
        print(f"{nu:5.1f} " + " ".join(f"{c:>23}" for c in cells) + f" {cover:9.3%}")


def table() -> None:
    for nu in NU_GRID:
        row = [calibrate_gamma(float(nu), float(a)) for a in ALPHA_GRID]
        cells = [f"{math.floor(g * 1e4) / 1e4:.4f}" for g in row]
        print("    [" + ", ".join(cells[:12]) + ",\n     " + ", ".join(cells[12:]) + "],", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="recompute and print GAMMA")
    args = parser.parse_args()
    table() if args.table else validation()


if __name__ == "__main__":
    main()
