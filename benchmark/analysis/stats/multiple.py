"""Multiple-comparison adjustment of a family of p-values (one implementation, vectorised
over families: the verdicts and the calibration simulations both call :func:`adjust_pvalues`)"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from benchmark.analysis.stats._validation import FloatArray, check_choice

#: Names accepted by :func:`adjust_pvalues` (and by ``--correction``).
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")


def _adjust_rows(p: FloatArray, name: str) -> FloatArray:
    """Holm or BH on every row of p (R, m), NaN left out of its row's family. Shape kept.

    Per row with m_r present values sorted ascending (NaN sort last), p(k), k = 1..m_r:
    Holm p_adj(k) = min(1, max_{j <= k} (m_r - j + 1) p(j)); BH (Benjamini-Hochberg 1995,
    the same arithmetic as ``scipy.stats.false_discovery_control(method="bh")``)
    p_adj(k) = min(1, min_{j >= k} m_r / j p(j)). The order among tied p-values does not
    change either result.
    """
    n_cols = p.shape[-1]
    present = ~np.isnan(p)
    m = present.sum(axis=-1, keepdims=True).astype(np.float64)  # (R, 1) family sizes
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    k = np.arange(n_cols, dtype=np.float64)  # 0-based rank
    with np.errstate(invalid="ignore"):
        if name == "holm":
            # NaN ranks come last, so the running max of a present value never sees them.
            adj = np.maximum.accumulate((m - k) * ranked, axis=-1)
        else:
            scaled = np.where(np.isnan(ranked), np.inf, m / (k + 1) * ranked)
            adj = np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1]
    adj = np.where(np.isnan(ranked), np.nan, np.minimum(adj, 1.0))
    out = np.empty_like(p)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def adjust_pvalues(p_values: npt.ArrayLike, method: str = "holm", *, axis: int | None = None) -> FloatArray:
    """Adjust families of p-values for multiple comparisons.

    Shapes: axis None: p_values (m,) -> (m,), one family; axis k: any shape -> the same
    shape, every 1-D slice along axis k its own family (e.g. (R, m) with axis=-1: R
    simulated families). Output in the input order, float64.

    - ``"holm"``: Holm-Bonferroni step-down (controls the family-wise error rate; monotone
      in p; capped at 1). Default.
    - ``"bh"``: Benjamini-Hochberg step-up (controls the false discovery rate); the same
      numbers as ``scipy.stats.false_discovery_control(method="bh")``.
    - ``"none"``: the p-values unchanged.

    NaN entries (a test that could not be run) stay NaN and are left out of their family's
    size m. An empty family returns an empty array. Names are case-insensitive.
    """
    name = check_choice("correction", method, CORRECTIONS)
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("p_values must be an array of numbers") from None
    if axis is None and p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape} (pass axis= to adjust several families)")
    if axis is not None and not -p.ndim <= axis < p.ndim:
        raise ValueError(f"axis {axis} is out of range for p_values of shape {p.shape}")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p_values must lie in [0, 1] (NaN marks a missing test)")
    if name == "none" or p.size == 0:
        return p.copy()
    rows = np.moveaxis(p, -1 if axis is None else axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    adjusted = _adjust_rows(flat, name).reshape(rows.shape)
    out: FloatArray = np.moveaxis(adjusted, -1, -1 if axis is None else axis)
    return np.ascontiguousarray(out)
