"""``dare_ties``: DARE on every task vector (drop and rescale), then TIES-merging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, dare, parse_grid, register_method, task_vector, ties_merge


@register_method("dare_ties")
@dataclass
class DareTies(Method):
    """TIES-merging of the target's and the sources' task vectors after DARE on each.

    As ``ties`` (start from the target-tuned fit of ``target_only``; task vectors of the target
    and the K sources over the trunk's parameters; TIES trim at ``density``, sign election,
    disjoint mean; λ on target validation data, the first best on ties; target head kept), but
    each task vector is first sparsified by DARE: every entry is dropped with probability
    ``drop_rate`` and the kept ones are scaled by ``1 / (1 - drop_rate)``, which keeps its
    expectation and lets the merged models interfere less. The drops are drawn from the run's
    generator (target vector first, then the sources in the source set's order), so a seed
    gives the same merge; ``drop_rate`` 0 is ``ties``. In a merge-all group the K task models'
    vectors are merged, λ on the mean validation accuracy over the K tasks. Yu, Yu, Yu, Huang & Li (2024),
    "Language Models are Super Mario: Absorbing Abilities from Homologous Models as a Free
    Lunch", ICML (DARE, with TIES as its merge); Yadav et al. (2023) for TIES.
    """

    needs_source: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True
    drop_rate: float = 0.9
    density: float = 0.2
    scales: str = "0.6,0.8,1.0,1.2,1.4,1.6,1.8"

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None
        grid = parse_grid(self.scales, "dare_ties.scales")
        model = ctx.reference
        pretrained = ctx.make_trunk()
        models, _ = ctx.merge_pool()  # [target, *sources]; merge all: the group's K experts
        vectors = [task_vector(m.trunk, pretrained) for m in models]
        dropped = [dare(v, self.drop_rate, ctx.generator) for v in vectors]
        ctx.training.append({"dare_drop_rate": self.drop_rate})
        ctx.select_scale(model, pretrained, ties_merge(dropped, self.density), grid)
        return model
