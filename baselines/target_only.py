"""``target_only``: the backbone fine-tuned on the target task alone (the reference for gain)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.api import Classifier, FitContext, Method, register_method


@register_method("target_only")
@dataclass
class TargetOnly(Method):
    """Fine-tune the protocol's trainable blocks and a new head on the target alone.

    The "∅→T" reference of Wang et al. (2019), "Characterizing and Avoiding Negative
    Transfer", CVPR: transfer gain is measured against it, seed by seed.
    """

    def fit(self, ctx: FitContext) -> Classifier:
        return ctx.fit(ctx.new_classifier(), desc="target_only")
