"""``average_merge``: the uniform soup of the target-tuned and the source-tuned trunks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from benchmark.api import Classifier, FitContext, Method, register_method, simple_average


@register_method("average_merge")
@dataclass
class AverageMerge(Method):
    """Average the trunk weights of the target-tuned model and the K source-tuned models.

    The start is the target-tuned model of ``target_only`` (the same fit, trained once and
    shared); its trunk's parameters become the plain mean ``(θ_target + Σ_k θ_source_k) / (K + 1)``
    of the K + 1 trunks (K = 1 for a pair); buffers (e.g. batch-norm statistics) and the head
    stay the target's. Nothing is tuned, so no validation data is used. The uniform "model
    soup" of Wortsman et al. (2022), "Model soups: averaging weights of multiple fine-tuned
    models improves accuracy without increasing inference time", ICML, and the "simple
    averaging" baseline of FusionBench (Tang et al. 2024). In a merge-all group: the mean of the
    K task models' trunks.
    """

    needs_source: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None
        model = ctx.reference
        trunks = [m.trunk for m in ctx.merge_pool()[0]]  # merge all: the group's K experts
        averaged = simple_average([dict(t.named_parameters()) for t in trunks])
        with torch.no_grad():
            for name, p in model.trunk.named_parameters():
                p.copy_(averaged[name])
        ctx.training.append({"merge": "uniform average", "merged_models": len(trunks)})
        return model
