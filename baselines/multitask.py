"""``multitask``: joint training on the source and the target, one shared trunk, two heads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from benchmark.api import Classifier, FitContext, Method, new_head, register_method


@register_method("multitask")
@dataclass
class Multitask(Method):
    """Joint multi-task training: a shared trunk with a head per task, trained on both at once.

    Each optimiser step takes a target batch and a source batch (drawn with replacement from
    the source's training draw) and minimises CE_target + ``source_weight`` * CE_source;
    the trunk starts from the pretrained weights; model selection (early stopping) is on the
    target's validation accuracy, and the source head is dropped at the end. Caruana (1997),
    "Multitask Learning", Machine Learning 28; the multi-task rows of jiant (Pruksachatkun et
    al. 2020) and FusionBench (Tang et al. 2024).
    """

    needs_source_data: ClassVar[bool] = True
    source_weight: float = 1.0

    def fit(self, ctx: FitContext) -> Classifier:
        source = ctx.source_train
        assert source is not None
        model = ctx.new_classifier()
        source_head = new_head(ctx.source_feature_dim, ctx.source_num_labels, ctx.generator).to(ctx.device)

        def source_loss(features: torch.Tensor, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            batch = torch.randint(len(source), (len(idx),), generator=ctx.generator)
            source_logits = source_head(ctx.batch_features(model.trunk, source.states, batch))
            return self.source_weight * F.cross_entropy(source_logits.float(), source.labels[batch].to(ctx.device))

        return ctx.fit(model, extra_loss=source_loss, extra_parameters=list(source_head.parameters()),
                       desc="multitask")
