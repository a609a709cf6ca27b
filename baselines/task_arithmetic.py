"""``task_arithmetic``: the target-tuned model plus the scaled sum of the source task vectors."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import (
    Classifier,
    FitContext,
    Method,
    parse_grid,
    register_method,
    task_arithmetic_merge,
    task_vector,
)


@register_method("task_arithmetic")
@dataclass
class TaskArithmetic(Method):
    """Add the sources' task vectors to the target-tuned weights, scaled on validation data.

    The start is the target-tuned model of ``target_only`` (the same fit, same seed and draw,
    trained once and shared: with scale 0 this method *is* ``target_only``); then
    ``θ = θ_target + λ Σ_k (θ_source_k − θ_pretrained)`` over the trunk's parameters, for the K
    sources of a pair (K = 1) or a fusion group, with one λ shared by every source: the value in
    ``scales`` with the best target validation accuracy (the first on ties, so the grid's order
    is the preference). One shared λ is the paper's own choice for adding several task vectors
    (Sec. 3, "a single scaling coefficient"), and keeps the selection a 1-D search on the small
    validation draw whatever K is. The target head is kept. In a merge-all group the model is
    the paper's multi-task one, ``θ_pretrained + λ Σ_k τ_k`` over the group's K task models, λ
    on the mean validation accuracy over the K tasks (each with its own head). Ilharco, Ribeiro, Wortsman,
    Gururangan, Schmidt, Hajishirzi & Farhadi (2023), "Editing Models with Task Arithmetic", ICLR.
    """

    needs_source: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True
    scales: str = "0,0.1,0.2,0.3,0.5,0.7,1.0"

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None
        grid = parse_grid(self.scales, "task_arithmetic.scales")
        model = ctx.reference
        pretrained = ctx.make_trunk()
        vectors = [task_vector(source.trunk, pretrained) for source in ctx.sources]
        # Coefficient 1 each: the sum (exactly the one vector when K = 1); λ scales it below.
        summed = task_arithmetic_merge(vectors, [1.0] * len(vectors))
        # Merge all: θ_pretrained + λ Σ over the group's K experts (the paper's multi-task model).
        base = pretrained if ctx.merge_all else copy.deepcopy(model.trunk)
        ctx.select_scale(model, base, summed, grid)
        return model
