"""Multiple-comparison adjustment of a family of p-values"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.stats

from benchmark.analysis.stats._validation import FloatArray, check_choice

#: Names accepted by :func:`adjust_pvalues` (and by ``--correction``).
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")


def holm(p_values: FloatArray) -> FloatArray:
    """Holm-Bonferroni step-down adjusted p-values (Holm 1979). Shape: (m,) -> (m,).

    With p sorted ascending, p_adj(k) = min(1, max_{j <= k} (m - j + 1) p(j)), returned in
    the input order. Input must be finite and in [0, 1].
    """
    m = p_values.size
    order = np.argsort(p_values, kind="stable")
    scaled = (m - np.arange(m)) * p_values[order]
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def adjust_pvalues(p_values: npt.ArrayLike, method: str = "holm") -> FloatArray:
    """Adjust a family of p-values for multiple comparisons.

    Shape: p_values (m,) -> (m,) float, same order.

    - ``"holm"``: Holm-Bonferroni step-down (controls the family-wise error rate; monotone
      in p; capped at 1). Default.
    - ``"bh"``: Benjamini-Hochberg step-up (controls the false discovery rate), via
      ``scipy.stats.false_discovery_control(method="bh")``.
    - ``"none"``: the p-values unchanged.

    NaN entries (a test that could not be run) stay NaN and are left out of the family size
    m. An empty family returns an empty array. Names are case-insensitive.
    """
    name = check_choice("correction", method, CORRECTIONS)
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("p_values must be a 1-D array of numbers") from None
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p_values must lie in [0, 1] (NaN marks a missing test)")
    out = np.full(p.shape, np.nan)
    if not np.any(present) or name == "none":
        out[present] = p[present]
        return out
    if name == "holm":
        out[present] = holm(p[present])
    else:
        out[present] = scipy.stats.false_discovery_control(p[present], method="bh")
    return out
