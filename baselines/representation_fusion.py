"""``representation_fusion``: a trained attention gate over pretrained and source-tuned features (K sources)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from benchmark.api import Classifier, FitContext, LabeledStates, Method, States, freeze, register_method


class FusionAttention(nn.Module):
    """AdapterFusion's attention over K feature vectors of one example.

    ``{"x": (B, K, D)}`` -> ``(B, D)``: the query is the first (pretrained) feature, keys and
    values every feature; softmax(q·k_i / sqrt(D)) weights the values. Value starts as the
    identity (Pfeiffer et al. 2021, Sec. 3.2), query and key small and random, so training
    starts from the plain average of the features.
    """

    def __init__(self, dim: int, generator: torch.Generator):
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        with torch.no_grad():
            for layer in (self.query, self.key):
                nn.init.normal_(layer.weight, std=0.01 / math.sqrt(dim), generator=generator)
                layer.bias.zero_()
            self.value.weight.copy_(torch.eye(dim))
            self.value.bias.zero_()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["x"].float()  # (B, K, D)
        q = self.query(x[:, 0])  # (B, D)
        scores = torch.einsum("bd,bkd->bk", q, self.key(x)) / math.sqrt(x.shape[-1])
        weights = torch.softmax(scores, dim=1)  # (B, K)
        return torch.einsum("bk,bkd->bd", weights, self.value(x))


class FusedTrunk(nn.Module):
    """Frozen trunks side by side, fused: stem batch -> ``(B, D)``."""

    def __init__(self, trunks: list[nn.Module], fusion: FusionAttention):
        super().__init__()
        self.trunks = nn.ModuleList(trunks)
        self.fusion = fusion

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.fusion({"x": torch.stack([t(batch).float() for t in self.trunks], dim=1)})


@register_method("representation_fusion")
@dataclass
class RepresentationFusion(Method):
    """Pretrained output + source knowledge, fused by a trained attention gate.

    The pretrained trunk and the K frozen source-tuned trunks (K = 1 for a pair, K for a fusion
    group; in the source set's order) all encode every example; an AdapterFusion-style attention
    (query from the pretrained feature, keys and values from all K + 1) mixes them per example,
    and a new head classifies the mix. This is AdapterFusion's own setting: one attention over N
    task adapters, here N = K source-tuned trunks plus the pretrained one. Only the fusion layer
    and the head train (every trunk stays frozen, so their features are computed once), with
    early stopping on the target's validation accuracy. Pfeiffer, Kamath, Rücklé, Cho &
    Gurevych (2021), "AdapterFusion: Non-Destructive Task Composition for Transfer
    Learning", EACL.
    """

    needs_source: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    lr: float = 1e-3
    epochs: int = 40
    patience: int = 6

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources
        trunks = [freeze(ctx.make_trunk()), *(freeze(s.trunk) for s in ctx.sources)]

        def stacked(data: LabeledStates) -> LabeledStates:
            views = [ctx.features(t, data) for t in trunks]
            return LabeledStates(States.dense(torch.stack(views, dim=1)), data.labels, data.ids)

        train, val = stacked(ctx.train), stacked(ctx.validation)
        fusion = FusionAttention(ctx.backbone.feature_dim, ctx.generator)
        config = dataclasses.replace(ctx.config, head_lr=self.lr, patience=self.patience, bf16=False)
        gate = ctx.fit(ctx.new_classifier(fusion), train=train, validation=val, config=config,
                       max_epochs=self.epochs, lr=self.lr, desc="representation_fusion")
        return Classifier(FusedTrunk(trunks, fusion), gate.head)
