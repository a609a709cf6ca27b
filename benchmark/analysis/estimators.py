"""Transferability estimators, registered: each is ONE function, and the scoring stage
(:mod:`benchmark.pipeline.transferability`), ``transferability.csv`` / ``transferability_ranking.csv``
(their ``description``), the README and the report all read this registry.

An estimator is a pure function whose parameter names say what it reads, among :data:`INPUTS`
(shapes: N target training examples, D feature dimensions, Cs source classes):

- ``features`` (N, D) float64: the source model's pooled features of the target's training draw;
- ``labels`` (N,) int: the target labels;
- ``source_probabilities`` (N, Cs): the source head's softmax on those features;
- ``source_predictions`` (N,) int: its argmax;
- ``source_accuracy`` float: the source model's accuracy on its own validation draw.

It returns a float, higher = predicted to transfer better. When an input it reads is not
available (a source head that cannot read the target's features has no probabilities), its
score is NaN: it does not apply. A plug-in (a module named by an entry point in the group
``benchmark.extensions``, or any module imported before the stage runs) adds one with::

    @register_estimator("mean_norm", description="mean feature norm (a toy)")
    def mean_norm(features: np.ndarray) -> float:
        return float(np.linalg.norm(features, axis=1).mean())
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmark.analysis.columns import load_extensions
from benchmark.analysis.stats import transferability as stats_tr
from benchmark.errors import ConfigError, did_you_mean, unknown_name

KNN_K = 5
INPUTS = ("features", "labels", "source_probabilities", "source_predictions", "source_accuracy")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class EstimatorInputs:
    """What an estimator may read about one (source model, target training draw); see the module doc."""

    features: np.ndarray
    labels: np.ndarray
    source_probabilities: np.ndarray | None
    source_accuracy: float

    @property
    def source_predictions(self) -> np.ndarray | None:
        probabilities = self.source_probabilities
        return None if probabilities is None else probabilities.argmax(1)


@dataclass(frozen=True)
class Estimator:
    name: str
    description: str
    """What it scores, with its reference: the ``description`` column of the ranking CSV."""
    function: Callable[..., float]
    reads: tuple[str, ...]

    def score(self, inputs: EstimatorInputs) -> float:
        """The estimator on ``inputs``; NaN when an input it reads is not available."""
        values = {name: getattr(inputs, name) for name in self.reads}
        if any(v is None for v in values.values()):
            return math.nan
        return float(self.function(**values))


_ESTIMATORS: dict[str, Estimator] = {}


def register_estimator(name: str, *, description: str) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator: register ``function`` as the estimator ``name`` (its required parameters name its inputs)."""
    if not _NAME.match(name):
        raise ConfigError(f"estimator name {name!r} must be lower_snake_case (letters, digits, _)")
    if name in _ESTIMATORS:
        raise ConfigError(f"estimator {name!r} is already registered; choose another name")
    if not description.strip():
        raise ConfigError(f"estimator {name!r} needs a description (what it scores, with its reference)")

    def decorate(function: Callable[..., float]) -> Callable[..., float]:
        reads = tuple(p.name for p in inspect.signature(function).parameters.values()
                      if p.default is inspect.Parameter.empty
                      and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        for param in reads:
            if param not in INPUTS:
                raise ConfigError(f"estimator {name!r} reads {param!r}, which is not an input."
                                  f"{did_you_mean(param, INPUTS)} Inputs: {', '.join(INPUTS)}")
        if not reads:
            raise ConfigError(f"estimator {name!r} reads nothing; name its inputs as parameters ({', '.join(INPUTS)})")
        _ESTIMATORS[name] = Estimator(name, description, function, reads)
        return function

    return decorate


def unregister_estimator(name: str) -> None:
    """Remove an estimator (a no-op when it is not registered)."""
    _ESTIMATORS.pop(name, None)


def estimators() -> dict[str, Estimator]:
    """Every registered estimator, in registration order (the scoring and CSV order); plug-ins'
    (entry points of ``benchmark.extensions``) included."""
    load_extensions()
    return dict(_ESTIMATORS)


def get_estimator(name: str) -> Estimator:
    load_extensions()
    if name not in _ESTIMATORS:
        raise unknown_name("transferability estimator", name, _ESTIMATORS)
    return _ESTIMATORS[name]


def score_all(inputs: EstimatorInputs) -> dict[str, float]:
    """Every registered estimator's score of ``inputs`` (NaN where one does not apply)."""
    return {name: est.score(inputs) for name, est in estimators().items()}


# --------------------------------------------------------------------------- the built-in estimators

register_estimator("logme", description="LogME evidence of the source features for the target labels "
                   "(You et al. 2021)")(stats_tr.logme)
register_estimator("leep", description="LEEP, log expected empirical prediction of the source head "
                   "(Nguyen et al. 2020)")(stats_tr.leep)
register_estimator("nce", description="negative conditional entropy of the target labels given source "
                   "predictions (Tran et al. 2019)")(stats_tr.nce)
register_estimator("h_score", description="H-score of the source features (Bao et al. 2019)")(stats_tr.h_score)


@register_estimator("knn", description=f"leave-one-out {KNN_K}-NN accuracy on the source features (baseline)")
def knn(features: np.ndarray, labels: np.ndarray) -> float:
    return stats_tr.knn_probe_accuracy(features, labels, k=KNN_K)


@register_estimator("source_accuracy", description="the source model's accuracy on its own validation draw "
                    "(baseline)")
def source_accuracy(source_accuracy: float) -> float:
    return float(source_accuracy)
