"""How the report writes a number: accuracy points, p-values, counts (``–`` when missing).

Pure text, no plotting: the column declarations (:mod:`benchmark.analysis.columns`) name
one of these as the report format of a column.
"""

from __future__ import annotations

import math
from typing import Any

MINUS = "\u2212"


def isnan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return value is None


def fmt_points(value: Any, signed: bool = True) -> str:
    """A gain (fraction) in accuracy points, e.g. ``+3.2``; ``–`` when missing."""
    if isnan(value):
        return "–"
    text = f"{100.0 * float(value):+.1f}" if signed else f"{100.0 * float(value):.1f}"
    return text.replace("-", MINUS)


def fmt_level(value: Any) -> str:
    """An accuracy (fraction) in points without a sign, e.g. ``81.3``."""
    return fmt_points(value, signed=False)


def fmt_ci(low: Any, high: Any) -> str:
    if isnan(low) or isnan(high):
        return "–"
    return f"[{fmt_points(low)}, {fmt_points(high)}]"


def fmt_num(value: Any, digits: int = 2) -> str:
    if isnan(value):
        return "–"
    return f"{float(value):.{digits}f}"


def fmt_num1(value: Any) -> str:
    """One decimal, e.g. seconds."""
    return fmt_num(value, 1)


def fmt_num3(value: Any) -> str:
    """Three decimals, e.g. an estimator's score."""
    return fmt_num(value, 3)


def fmt_p(value: Any) -> str:
    if isnan(value):
        return "–"
    v = float(value)
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def fmt_int(value: Any) -> str:
    return "–" if isnan(value) else str(int(float(value)))


def fmt_text(value: Any) -> str:
    return str(value)


def source_label(source: Any) -> str:
    return "(none)" if str(source) == "-" else str(source)
