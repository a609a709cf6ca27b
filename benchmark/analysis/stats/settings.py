"""The analysis settings (significance level, family correction, equivalence margin) and
their defaults, defined once.

Every default of ``--alpha``, ``--correction`` and ``--margin`` (the CLI, the leaderboards,
the statistics functions, the simulations) reads :data:`DEFAULTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmark.analysis.stats._validation import check_choice
from benchmark.analysis.stats.multiple import CORRECTIONS


@dataclass(frozen=True)
class AnalysisSettings:
    """How gains are judged.

    - alpha: significance level of the family-adjusted tests, strictly between 0 and 1;
    - correction: multiple-comparison adjustment within a family, one of
      :data:`~benchmark.analysis.stats.multiple.CORRECTIONS` (case-insensitive; stored lower case);
    - margin: equivalence margin of a gain (TOST), an accuracy difference strictly between
      0 and 1 (0.01 = one accuracy point).

    Bad values raise ``ValueError`` with one line naming the setting (did-you-mean for an
    unknown correction).
    """

    alpha: float = 0.05
    correction: str = "bh"
    margin: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _open_unit("alpha", self.alpha, "e.g. 0.05"))
        object.__setattr__(self, "correction", check_choice("correction", self.correction, CORRECTIONS))
        object.__setattr__(self, "margin", _open_unit("margin", self.margin, "0.01 = one accuracy point"))


def _open_unit(name: str, value: object, example: str) -> float:
    """``value`` as a float strictly between 0 and 1, else a one-line ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number strictly between 0 and 1 ({example}), got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0.0 < number < 1.0):
        raise ValueError(f"{name} must be strictly between 0 and 1 ({example}), got {value!r}")
    return number


#: The defaults of every analysis entry point.
DEFAULTS = AnalysisSettings()

#: Default significance level (:attr:`AnalysisSettings.alpha`).
DEFAULT_ALPHA: float = DEFAULTS.alpha
#: Default family correction (:attr:`AnalysisSettings.correction`).
DEFAULT_CORRECTION: str = DEFAULTS.correction
#: Default equivalence margin (TOST): one accuracy point (:attr:`AnalysisSettings.margin`).
DEFAULT_MARGIN: float = DEFAULTS.margin
