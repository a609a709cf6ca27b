"""``finetune``: sequential (intermediate-task) transfer: source first, then target."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method


@register_method("finetune")
@dataclass
class Finetune(Method):
    """Start from the source-tuned trunk, swap the head, fine-tune on the target.

    STILTs: Phang, Févry & Bowman (2018), "Sentence Encoders on STILTs: Supplementary
    Training on Intermediate Labeled-data Tasks"; Pruksachatkun et al. (2020),
    "Intermediate-Task Transfer Learning with Pretrained Language Models: When and Why
    Does It Work?", ACL.
    """

    needs_source: ClassVar[bool] = True

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.source is not None
        trunk = copy.deepcopy(ctx.source.trunk)
        trunk.requires_grad_(True)
        model = Classifier(trunk, new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        result = fit(model, ctx.train, ctx.validation, ctx.config, ctx.generator,
                     device=ctx.device, desc="finetune")
        ctx.record(result)
        return model
