"""``task_arithmetic``: the target-tuned model plus a scaled source task vector."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import (
    Classifier,
    FitContext,
    Method,
    fit,
    new_head,
    parse_grid,
    register_method,
    select_scale,
    task_vector,
)


@register_method("task_arithmetic")
@dataclass
class TaskArithmetic(Method):
    """Add the source's task vector to the target-tuned weights, scaled on validation data.

    The trunk is first fine-tuned on the target exactly as ``target_only`` does (same seed,
    same fit: with scale 0 this method *is* ``target_only``); then
    ``θ = θ_target + λ (θ_source − θ_pretrained)`` over the trunk's parameters, with λ the
    value in ``scales`` with the best target validation accuracy (the first on ties, so the
    grid's order is the preference). The target head is kept. Ilharco, Ribeiro, Wortsman,
    Gururangan, Schmidt, Hajishirzi & Farhadi (2023), "Editing Models with Task
    Arithmetic", ICLR.
    """

    needs_source: ClassVar[bool] = True
    scales: str = "0,0.1,0.2,0.3,0.5,0.7,1.0"

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.source is not None
        grid = parse_grid(self.scales, "task_arithmetic.scales")
        model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        result = fit(model, ctx.train, ctx.validation, ctx.config, ctx.generator,
                     device=ctx.device, desc="task_arithmetic")
        ctx.record(result, extra_examples=len(grid) * len(ctx.validation))
        source_vector = task_vector(ctx.source.trunk, ctx.make_trunk())
        target_tuned = copy.deepcopy(model.trunk)
        chosen, accuracies = select_scale(model, target_tuned, source_vector, grid, ctx.validation,
                                          ctx.config, ctx.device)
        ctx.training.append({"merge_scales": grid, "merge_val_accuracy": accuracies, "merge_scale": chosen})
        return model
