"""``ties``: TIES-merging of the target's and the sources' task vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, parse_grid, register_method, task_vector, ties_merge


@register_method("ties")
@dataclass
class Ties(Method):
    """Merge the target's and the sources' task vectors by trim, elect sign, disjoint mean.

    The start is the target-tuned model of ``target_only`` (the same fit, trained once and
    shared); the target's and each of the K sources' task vectors (tuned − pretrained, over the
    trunk's parameters; K = 1 for a pair) are TIES-merged: each keeps its top ``density``
    fraction of entries by magnitude, each entry's sign is elected by the larger total mass,
    and the values agreeing with it are averaged. Then ``θ = θ_pretrained + λ τ_merged`` with
    λ, one for the merged vector as in the paper, the value in ``scales`` with the best target
    validation accuracy (the first on ties); the target head is kept. Yadav, Tam, Choshen,
    Raffel & Bansal (2023), "TIES-Merging: Resolving Interference When Merging Models",
    NeurIPS (``density`` 0.2 is their k = 20%). In a merge-all group the K task models' vectors
    are merged, λ on the mean validation accuracy over the K tasks (each with its own head).
    """

    needs_source: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True
    density: float = 0.2
    scales: str = "0.6,0.8,1.0,1.2,1.4,1.6,1.8"

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None
        grid = parse_grid(self.scales, "ties.scales")
        model = ctx.reference
        pretrained = ctx.make_trunk()
        models, _ = ctx.merge_pool()  # [target, *sources]; merge all: the group's K experts
        vectors = [task_vector(m.trunk, pretrained) for m in models]
        ctx.select_scale(model, pretrained, ties_merge(vectors, self.density), grid)
        return model
