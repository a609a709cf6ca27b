"""``target_only``: the backbone fine-tuned on the target task alone (the reference for gain)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method


@register_method("target_only")
@dataclass
class TargetOnly(Method):
    """Fine-tune the protocol's trainable blocks and a new head on the target alone.

    The "∅→T" reference of Wang et al. (2019), "Characterizing and Avoiding Negative
    Transfer", CVPR: transfer gain is measured against it, seed by seed.
    """

    def fit(self, ctx: FitContext) -> Classifier:
        model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        result = fit(model, ctx.train, ctx.validation, ctx.config, ctx.generator,
                     device=ctx.device, desc="target_only")
        ctx.record(result)
        return model
