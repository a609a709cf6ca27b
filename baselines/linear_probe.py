"""``linear_probe``: a linear classifier on the frozen pretrained backbone's features."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from benchmark.api import Classifier, FitContext, LabeledStates, Method, States, freeze, register_method


class _Features(nn.Module):
    """Identity trunk over precomputed pooled features: ``{"x": (B, D)} -> (B, D)``."""

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["x"].float()


@register_method("linear_probe")
@dataclass
class LinearProbe(Method):
    """Frozen backbone, trained linear head (the linear evaluation protocol).

    Kornblith, Shlens & Le (2019), "Do Better ImageNet Models Transfer Better?", CVPR.
    Pooled features are computed once; the head trains with AdamW and early stopping on
    the target's validation accuracy.
    """

    lr: float = 3e-3
    epochs: int = 60
    patience: int = 8

    def fit(self, ctx: FitContext) -> Classifier:
        trunk = freeze(ctx.make_trunk())
        train, val = (LabeledStates(States.dense(ctx.features(trunk, data)), data.labels, data.ids)
                      for data in (ctx.train, ctx.validation))
        config = dataclasses.replace(ctx.config, head_lr=self.lr, patience=self.patience, bf16=False)
        probe = ctx.fit(ctx.new_classifier(_Features()), train=train, validation=val, config=config,
                        max_epochs=self.epochs, desc="linear_probe")
        return Classifier(trunk, probe.head)
