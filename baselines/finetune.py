"""``finetune``: sequential (intermediate-task) transfer: source first, then target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, register_method


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
        return ctx.fit(ctx.new_classifier(ctx.source_trunk()), desc="finetune")
