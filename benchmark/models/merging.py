"""Weight-space merging: task vectors, TIES merging, and the merge coefficient chosen on
validation data (for ``task_arithmetic`` and ``ties``).

A task vector is ``tuned - pretrained`` over a trunk's parameters (Ilharco et al. 2023);
buffers (e.g. batch-norm statistics) are not merged: they come from the model being edited.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from benchmark.models.training import Classifier, LabeledStates, TrainConfig, accuracy_of

TaskVector = dict[str, torch.Tensor]


def task_vector(tuned: nn.Module, pretrained: nn.Module) -> TaskVector:
    """``tuned - pretrained`` for every parameter (same architecture)."""
    base = dict(pretrained.named_parameters())
    return {name: (p.detach() - base[name].detach()).float() for name, p in tuned.named_parameters()}


def ties_merge(vectors: Sequence[TaskVector], density: float) -> TaskVector:
    """TIES-merging of task vectors (Yadav et al. 2023, "TIES-Merging: Resolving Interference
    When Merging Models", NeurIPS), over all their parameters at once:

    1. trim: keep each vector's top ``density`` fraction of entries by magnitude, zero the rest;
    2. elect: per entry, the sign of the sum of the trimmed values (the sign with more mass);
    3. disjoint merge: per entry, the mean of the trimmed values that carry the elected sign.
    """
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density}")
    names = list(vectors[0])
    flat = torch.stack([torch.cat([v[n].flatten() for n in names]) for v in vectors])  # (T, P)
    keep = max(1, round(density * flat.shape[1]))
    threshold = flat.abs().kthvalue(flat.shape[1] - keep + 1, dim=1, keepdim=True).values  # (T, 1)
    trimmed = torch.where(flat.abs() >= threshold, flat, torch.zeros_like(flat))
    sign = torch.sign(trimmed.sum(0))  # (P,)
    agree = (torch.sign(trimmed) == sign) & (trimmed != 0)
    merged = (trimmed * agree).sum(0) / agree.sum(0).clamp(min=1)
    out: TaskVector = {}
    start = 0
    for n in names:
        size = vectors[0][n].numel()
        out[n] = merged[start : start + size].view_as(vectors[0][n])
        start += size
    return out


def add_vector(module: nn.Module, base: nn.Module, vector: TaskVector, scale: float) -> None:
    """Set ``module``'s parameters to ``base``'s + ``scale`` * ``vector`` (in place)."""
    base_params = dict(base.named_parameters())
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(base_params[name] + scale * vector[name].to(p.dtype))


def parse_grid(text: str, name: str, within: tuple[float, float] | None = None, open_ends: bool = False) -> list[float]:
    """``"0,0.5,1"`` -> ``[0.0, 0.5, 1.0]``; a clear error for anything else, or for a value outside
    ``within`` (its ends excluded when ``open_ends``)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers (e.g. '0,0.5,1'), got {text!r}") from None
    if not values:
        raise ValueError(f"{name} is empty; give at least one number (e.g. '0,0.5,1')")
    if within is not None:
        low, high = within
        inside = (lambda v: low < v < high) if open_ends else (lambda v: low <= v <= high)
        if not all(inside(v) for v in values):
            span = f"({low:g}, {high:g})" if open_ends else f"[{low:g}, {high:g}]"
            raise ValueError(f"{name} must lie in {span}, got {text!r}")
    return values


def select_scale(model: Classifier, base: nn.Module, vector: TaskVector, scales: Sequence[float],
                 validation: LabeledStates, config: TrainConfig, device: str = "cpu") -> tuple[float, list[float]]:
    """Set ``model.trunk`` to ``base + s * vector`` for the ``s`` in ``scales`` with the highest
    validation accuracy (the first on ties) and return it with every scale's accuracy."""
    accuracies: list[float] = []
    for s in scales:
        add_vector(model.trunk, base, vector, s)
        accuracies.append(accuracy_of(model, validation, config, device))
    best = scales[max(range(len(scales)), key=lambda i: (accuracies[i], -i))]
    add_vector(model.trunk, base, vector, best)
    return best, accuracies
