"""``regmean``: RegMean merging of the target-tuned and the source-tuned trunks."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from benchmark.api import (
    Classifier,
    FitContext,
    LabeledStates,
    Method,
    TrainConfig,
    differing_parameters,
    linear_grams,
    parse_grid,
    register_method,
    regmean_merge_modules,
)


def trunk_grams(trunk: nn.Module, data: LabeledStates, config: TrainConfig, device: str = "cpu",
                max_examples: int = 0) -> dict[str, torch.Tensor]:
    """The Gram matrix of the inputs to every ``nn.Linear`` of ``trunk`` over ``data`` (its first
    ``max_examples`` if > 0), by layer name (:func:`~benchmark.models.merge_many.linear_grams`):
    eval mode, no gradients, float32, batches of ``config.eval_batch_size``. Padding positions of a
    sequence batch are part of what the layers see, as in the paper's recording of layer inputs."""
    n = len(data) if max_examples <= 0 else min(len(data), max_examples)
    was_training = trunk.training
    trunk.eval()

    def run() -> None:
        with torch.no_grad():
            for idx in data.states.batches(config.eval_batch_size):
                idx = idx[idx < n]
                if len(idx):
                    trunk({k: v.to(device).float() if v.is_floating_point() else v.to(device)
                           for k, v in data.states.batch(idx).items()})

    try:
        return linear_grams(trunk, run)
    finally:
        trunk.train(was_training)


@register_method("regmean")
@dataclass
class RegMean(Method):
    """Merge the target-tuned and the K source-tuned trunks by RegMean.

    The start is the target-tuned model of ``target_only`` (the same fit, trained once and
    shared). Each of the K + 1 models runs on its own training states (the target model on the
    target's training draw, each source model on its source's) and the inputs to each of its
    ``nn.Linear`` layers are recorded as Gram matrices (:func:`trunk_grams`); every linear weight
    fine-tuning changed becomes ``W = (Σ_i G~_i)^-1 Σ_i G~_i W_i`` (the closed-form minimiser of
    the K + 1 models' output differences on their own inputs), every other changed parameter
    (biases, norms, convolutions) the plain mean, as in the paper
    (:func:`~benchmark.models.merge_many.regmean_merge_modules`); unchanged (frozen) parameters,
    buffers and the head stay the target's. ``G~ = α G + (1 - α) diag(G)``: ``α`` is the value in
    ``alphas`` with the best target validation accuracy (the first on ties), recorded with every
    candidate's. A trunk without changed linear layers (e.g. the convolutional EfficientNet's top
    blocks) is merged by the plain mean of its changed parameters. Works for a pair (K = 1) and a
    fusion group alike; in a merge-all group the K task models are merged, ``α`` on the mean
    validation accuracy over the K tasks. Jin, Ren, Preotiuc-Pietro & Cheng (2023), "Dataless Knowledge Fusion by
    Merging Weights of Language Models", ICLR.
    """

    needs_source: ClassVar[bool] = True
    needs_source_data: ClassVar[bool] = True
    needs_reference_fit: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0
    merges_all: ClassVar[bool] = True
    alphas: str = "0.5,0.7,0.9"
    gram_examples: int = 1024

    def fit(self, ctx: FitContext) -> Classifier:
        assert ctx.sources and ctx.reference is not None and len(ctx.source_trains) == len(ctx.sources)
        grid = parse_grid(self.alphas, "regmean.alphas", within=(0, 1))
        model = ctx.reference
        models, draws = ctx.merge_pool()  # [target, *sources]; merge all: the group's K experts
        trunks = [m.trunk for m in models]
        grams = [trunk_grams(t, d, ctx.config, ctx.device, self.gram_examples) for t, d in zip(trunks, draws,
                                                                                              strict=True)]
        ctx.examples_processed += sum(min(len(d), self.gram_examples) if self.gram_examples > 0 else len(d)
                                      for d in draws)
        names = differing_parameters(trunks)
        # The target's trunk as tuned: select_merge overwrites model.trunk candidate by candidate.
        originals = [copy.deepcopy(t) if t is model.trunk else t for t in trunks]

        def merged(alpha: float) -> dict[str, torch.Tensor]:
            out = regmean_merge_modules(originals, None, alpha, grams_per_module=grams)
            return {n: out[n] for n in names}

        ctx.select_merge(model, merged, grid, "alpha")
        linear = {f"{n}.weight" for n, m in model.trunk.named_modules() if isinstance(m, nn.Linear)}
        ctx.training[-1].update({"merge": "regmean", "merged_models": len(trunks), "merged_parameters": len(names),
                                 "regmean_linear_weights": sum(n in linear for n in names)})
        return model
