"""``fisher_merge``: Fisher-weighted averaging of the target-tuned and the source-tuned trunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from benchmark.api import (
    Classifier,
    FitContext,
    LabeledStates,
    Method,
    differing_parameters,
    fisher_merge,
    parse_grid,
    register_method,
)


def empirical_fisher(model: Classifier, data: LabeledStates, names: Sequence[str], device: str = "cpu",
                     max_examples: int = 0) -> dict[str, torch.Tensor]:
    """The empirical diagonal Fisher of ``model`` (trunk + its own head) on ``data``, for the
    parameters ``names`` of ``model.trunk``: per entry, the mean over the examples of the squared
    gradient of ``log p(y | x)`` at the model's own predicted label (the deterministic "predicted
    labels" variant of :func:`benchmark.models.merge_many.diagonal_fisher`, which gives the same
    numbers on fixed-size inputs). One example per forward and backward pass, in float32 and eval
    mode, so variable-length sequences need no padding and only ``names`` get gradients;
    ``max_examples`` > 0 uses the draw's first that many examples (a draw is a seeded random
    sample). ``model``'s parameters' ``requires_grad`` and mode are restored; ``.grad`` is untouched."""
    params = dict(model.trunk.named_parameters())
    chosen = [params[n] for n in names]
    flags = [p.requires_grad for p in chosen]
    sums = [torch.zeros_like(p, dtype=torch.float32) for p in chosen]
    n = len(data) if max_examples <= 0 else min(len(data), max_examples)
    was_training = model.training
    model.eval()
    try:
        for p in chosen:
            p.requires_grad_(True)
        for i in range(n):
            batch = {k: v.to(device).float() if v.is_floating_point() else v.to(device)
                     for k, v in data.states.batch([i]).items()}
            logits = model(batch).float()  # (1, C)
            log_p = F.log_softmax(logits, dim=1)[0, int(logits.argmax(1))]
            grads = torch.autograd.grad(log_p, chosen, allow_unused=True)
            for total, g in zip(sums, grads, strict=True):
                if g is not None:
                    total += g.detach().float().square()
    finally:
        for p, flag in zip(chosen, flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)
    return {name: total / n for name, total in zip(names, sums, strict=True)}


def weighted_fishers(fishers: Sequence[dict[str, torch.Tensor]], target_weight: float) -> list[dict[str, torch.Tensor]]:
    """Matena & Raffel's model weights: the target's Fisher (first) times ``target_weight``, each of
    the K sources' times ``(1 - target_weight) / K``."""
    k = len(fishers) - 1
    weights = [target_weight, *([(1 - target_weight) / k] * k)]
    return [{n: w * f for n, f in fisher.items()} for w, fisher in zip(weights, fishers, strict=True)]


@register_method("fisher_merge")
@dataclass
class FisherMerge(Method):
    """Merge the target-tuned and the K source-tuned trunks, each parameter weighted by its Fisher.

    The start is the target-tuned model of ``target_only`` (the same fit, trained once and
    shared). Each of the K + 1 models' diagonal Fisher (:func:`empirical_fisher`) is computed with
    its own head on its own training states: the target model on the target's training draw, each
    source model on its source's training draw (the one it was tuned on). Per trunk parameter the
    merge is ``Σ_i λ_i F_i θ_i / Σ_i λ_i F_i`` (:func:`~benchmark.models.merge_many.fisher_merge`),
    over the parameters fine-tuning changed (the frozen ones are one shared value and stay);
    buffers and the head stay the target's. The model weights ``λ`` are the paper's: the target's
    ``λ`` is the value in ``target_weights`` with the best target validation accuracy (the first
    on ties), the sources share the rest equally (``(1 - λ) / K`` each); the chosen value, every
    candidate's accuracy and each model's total Fisher mass are recorded. Works for a pair (K = 1)
    and a fusion group alike; in a merge-all group the K task models weigh the same (1 / K),
    so nothing is tuned. Matena & Raffel (2022), "Merging Models with Fisher-Weighted
    Averaging", NeurIPS.
    """

    needs_source: ClassVar[bool] = True
    needs_source_data: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True
    target_weights: str = "0.1,0.3,0.5,0.7,0.9"
    fisher_examples: int = 256

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None and len(ctx.source_trains) == len(ctx.sources)
        grid = parse_grid(self.target_weights, "fisher_merge.target_weights", within=(0, 1), open_ends=True)
        model = ctx.reference
        models, draws = ctx.merge_pool()  # [target, *sources]; merge all: the group's K experts
        names = differing_parameters([m.trunk for m in models])
        fishers = [empirical_fisher(m, d, names, ctx.device, self.fisher_examples) for m, d in zip(models, draws,
                                                                                                  strict=True)]
        ctx.examples_processed += sum(min(len(d), self.fisher_examples) if self.fisher_examples > 0 else len(d)
                                      for d in draws)
        thetas = [{n: p.detach().clone() for n, p in m.trunk.named_parameters() if n in set(names)} for m in models]
        if ctx.merge_all:  # no target to weigh: the K models weigh the same (Matena & Raffel's multi-task merge)
            equal = [{n: f / len(models) for n, f in fisher.items()} for fisher in fishers]
            ctx.select_merge(model, lambda _: fisher_merge(thetas, equal), [1.0 / len(models)], "model_weight")
        else:
            ctx.select_merge(model, lambda w: fisher_merge(thetas, weighted_fishers(fishers, w)), grid,
                             "target_weight")
        ctx.training[-1].update({"merge": "fisher", "merged_models": len(models), "merged_parameters": len(names),
                                 "fisher_mass": [float(sum(f.sum() for f in fisher.values())) for fisher in fishers]})
        return model
