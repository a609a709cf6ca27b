"""``multitask``: joint training on the target and its source(s), one shared trunk, a head per task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from benchmark.api import Classifier, FitContext, Method, new_head, register_method


@register_method("multitask")
@dataclass
class Multitask(Method):
    """Joint multi-task training: a shared trunk with a head per task, trained on all at once.

    Each optimiser step takes a target batch and, for each of the K sources (K = 1 for a pair,
    K for a fusion group), a batch of the same size drawn with replacement from that source's
    training draw, and minimises CE_target + ``source_weight`` * Σ_k CE_source_k: every task's
    loss counts alike (the plain sum of task losses of multi-task learning), with the target's
    early stopping deciding. The trunk starts from the pretrained weights; model selection is on
    the target's validation accuracy, and the source heads are dropped at the end. With K = 1
    this is exactly the pairwise method. Caruana (1997), "Multitask Learning", Machine Learning
    28; the multi-task rows of jiant (Pruksachatkun et al. 2020) and FusionBench (Tang et al. 2024).
    """

    needs_source_data: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    source_weight: float = 1.0

    def fit(self, ctx: FitContext) -> Classifier:
        sources = ctx.source_trains
        assert sources and len(ctx.source_label_counts) == len(sources) == len(ctx.source_feature_dims)
        model = ctx.new_classifier()
        heads = [new_head(dim, labels, ctx.generator).to(ctx.device)
                 for dim, labels in zip(ctx.source_feature_dims, ctx.source_label_counts, strict=True)]

        def source_loss(features: torch.Tensor, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            total: torch.Tensor | None = None
            for source, head in zip(sources, heads, strict=True):
                batch = torch.randint(len(source), (len(idx),), generator=ctx.generator)
                source_logits = head(ctx.batch_features(model.trunk, source.states, batch))
                term = self.source_weight * F.cross_entropy(source_logits.float(),
                                                            source.labels[batch].to(ctx.device))
                total = term if total is None else total + term
            assert total is not None
            return total

        return ctx.fit(model, extra_loss=source_loss,
                       extra_parameters=[p for head in heads for p in head.parameters()], desc="multitask")
