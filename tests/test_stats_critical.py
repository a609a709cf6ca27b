"""The calibrated critical values of the crossed test (benchmark.analysis.stats.critical)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from benchmark.analysis.stats.critical import (
    ALPHA_GRID,
    GAMMA,
    NU_GRID,
    RHO_GRID,
    TARGET,
    calibrate_gamma,
    critical_value,
    gamma_for,
    rejection_rate,
    two_sided_p,
)


def test_limits_are_the_normal_and_student_quantiles() -> None:
    a = np.array([0.05, 0.01, 0.001])
    z = scipy.stats.norm.isf(a / 2)
    # Seed df infinite: the normal quantile times the whole SE.
    assert np.allclose(critical_value(a, 0.3, 0.7, np.inf), z * 1.0)
    # No example part: Student's t with the seed df, whatever gamma (w = 1).
    assert np.allclose(critical_value(a, 4.0, 0.0, 3.0), scipy.stats.t.isf(a / 2, 3.0) * 2.0)
    # No seed part: the normal quantile.
    assert np.allclose(critical_value(a, 0.0, 9.0, 2.0), z * 3.0)
    # Between: sqrt(z^2 b + t(nu / w^gamma)^2 u), by hand.
    u, b, nu = 0.5, 1.5, 2.0
    g = gamma_for(nu, 0.01)
    want = np.sqrt(scipy.stats.norm.isf(0.005) ** 2 * b + scipy.stats.t.isf(0.005, nu / (u / (u + b)) ** g) ** 2 * u)
    assert critical_value(0.01, u, b, nu) == pytest.approx(want, rel=1e-10)


def test_p_value_inverts_the_critical_value_and_is_monotone() -> None:
    gains = np.linspace(0.01, 8.0, 400)
    p = two_sided_p(gains, 1.2, 0.8, 2.0)
    assert np.all(np.diff(p) < 0), "p must fall strictly as |gain| grows (no plateaus at grid levels)"
    k = critical_value(p, 1.2, 0.8, 2.0)
    assert np.allclose(k, gains, rtol=1e-6)
    assert two_sided_p(-gains[10], 1.2, 0.8, 2.0) == pytest.approx(p[10])
    assert two_sided_p(0.0, 1.0, 1.0, 3.0) == 1.0


def test_rejection_rate_integral_matches_monte_carlo() -> None:
    # The exact integral behind the table, against draws of the two-part model it describes.
    rng = np.random.default_rng(7)
    nu, rho, a, gamma = 2.0, 3.0, 0.05, 0.4
    n = 400_000
    gain = rng.normal(0.0, np.sqrt(rho + 1.0), n)
    u = rho * rng.chisquare(nu, n) / nu
    hits = np.abs(gain) > critical_value(a, u, 1.0, nu, gamma)
    exact = float(rejection_rate(nu, [rho], a, gamma)[0])
    assert abs(hits.mean() - exact) < 4 * np.sqrt(exact * (1 - exact) / n)


@pytest.mark.parametrize(("row", "col"), [(2, 16), (4, 8), (7, 3)])
def test_table_cells_rederive(row: int, col: int) -> None:
    got = calibrate_gamma(float(NU_GRID[row]), float(ALPHA_GRID[col]))
    assert GAMMA[row, col] == pytest.approx(got, abs=2e-4)
    assert GAMMA[row, col] <= got + 1e-12  # rounded down: never more liberal than calibrated


@pytest.mark.parametrize("nu", [1.3, 2.0, 2.4, 3.7, 7.0, 100.0])
@pytest.mark.parametrize("alpha", [0.05, 0.05 / 6, 0.05 / 18, 0.05 / 36, 0.05 / 100, 0.031])
def test_worst_rate_holds_between_grid_points(nu: float, alpha: float) -> None:
    worst = rejection_rate(min(nu, 1e3), RHO_GRID, alpha, float(gamma_for(nu, alpha))).max() / alpha
    assert worst <= TARGET + 0.005


def test_gamma_grows_with_df_and_level() -> None:
    assert np.all(np.diff(GAMMA, axis=0) >= -1e-3) and np.all(np.diff(GAMMA, axis=1) >= -1e-3)
