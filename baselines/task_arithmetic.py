"""``task_arithmetic``: the target-tuned model plus a scaled source task vector."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, parse_grid, register_method, task_vector


@register_method("task_arithmetic")
@dataclass
class TaskArithmetic(Method):
    """Add the source's task vector to the target-tuned weights, scaled on validation data.

    The start is the target-tuned model of ``target_only`` (the same fit, same seed and draw,
    trained once and shared: with scale 0 this method *is* ``target_only``); then
    ``θ = θ_target + λ (θ_source − θ_pretrained)`` over the trunk's parameters, with λ the
    value in ``scales`` with the best target validation accuracy (the first on ties, so the
    grid's order is the preference). The target head is kept. Ilharco, Ribeiro, Wortsman,
    Gururangan, Schmidt, Hajishirzi & Farhadi (2023), "Editing Models with Task
    Arithmetic", ICLR.
    """

    needs_source: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    scales: str = "0,0.1,0.2,0.3,0.5,0.7,1.0"

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.source is not None and ctx.reference is not None
        grid = parse_grid(self.scales, "task_arithmetic.scales")
        model = ctx.reference
        source_vector = task_vector(ctx.source.trunk, ctx.make_trunk())
        ctx.select_scale(model, copy.deepcopy(model.trunk), source_vector, grid)
        return model
