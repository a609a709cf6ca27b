"""``scratch``: the same architecture trained from random initialisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, StemInit, register_method


@register_method("scratch")
@dataclass
class Scratch(Method):
    """Train the protocol's trainable blocks and a head from random weights.

    VTAB's From-Scratch row (Zhai et al. 2019, "A Large-scale Study of Representation
    Learning with the Visual Task Adaptation Benchmark"). Every weight of the backbone is
    drawn at random from the run's seed; under a ``top-k`` protocol the frozen lower
    blocks keep their random weights (random features), so this is the from-scratch
    baseline at the same training cost as the other methods. Under ``all`` it is exactly
    VTAB's From-Scratch.
    """

    stem_init: ClassVar[StemInit] = "random"

    def fit(self, ctx: FitContext) -> Classifier:
        return ctx.fit(ctx.new_classifier(), desc="scratch")  # make_trunk gives the random weights
