"""``hybrid``: source-initialised fine-tuning regularised toward the frozen source model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from benchmark.api import Classifier, FitContext, Method, normalized_feature_distance, register_method


@register_method("hybrid")
@dataclass
class Hybrid(Method):
    """Source-initialised fine-tuning regularised toward the frozen source model.

    Starts from the source-tuned trunk (as ``finetune``); while training on the target,
    features and weights are kept close to the frozen source model.

    Loss = CE + ``weight`` * ||f(x)/|f(x)| - f_src(x)/|f_src(x)|||^2 (feature-map
    regularisation toward the source model: DELTA, Li et al. 2019, "DELTA: Deep Learning
    Transfer using Feature Map with Attention"; the same idea as Learning without
    Forgetting, Li & Hoiem 2016) + ``l2sp`` * ||w - w_src||^2 (L2-SP, Li, Grandvalet &
    Davoine 2018, "Explicit Inductive Bias for Transfer Learning with Convolutional
    Networks").
    """

    needs_source: ClassVar[bool] = True
    weight: float = 1.0
    l2sp: float = 0.01

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.source is not None
        source_features = ctx.features(ctx.source.trunk, ctx.train).to(ctx.device)  # (N, D)
        trunk = ctx.source_trunk()
        anchors = [p.detach().clone() for p in trunk.parameters()]
        model = ctx.new_classifier(trunk)

        def extra(features: torch.Tensor, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            loss = self.weight * normalized_feature_distance(features, source_features[idx])
            if self.l2sp:
                drift = sum((p - a).pow(2).sum() for p, a in zip(trunk.parameters(), anchors, strict=True))
                loss = loss + self.l2sp * drift
            return loss

        return ctx.fit(model, extra_loss=extra, desc="hybrid")
