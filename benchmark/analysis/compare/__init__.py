"""``python -m benchmark compare``: calibrated verdicts for any harness's per-example predictions.

Importers (:mod:`benchmark.analysis.compare.importers`, registered with :func:`register_importer`) read a
tidy table, lm-evaluation-harness ``--log_samples`` folders or this benchmark's results into
:class:`Evaluations`; :func:`compare` tests them with the leaderboard's code.
"""

from benchmark.analysis.compare.evaluations import Evaluations
from benchmark.analysis.compare.pipeline import Comparisons, compare, compare_files
from benchmark.analysis.compare.registry import IMPORTERS, register_importer

__all__ = ["IMPORTERS", "Comparisons", "Evaluations", "compare", "compare_files", "register_importer"]
