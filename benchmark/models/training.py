"""The one training loop every method shares, so every method gets the same protocol.

Early stopping on the target's validation accuracy (best epoch kept) is the protocol's
hyperparameter search: by default every method gets the protocol's epochs, batch size,
learning rates and budget (a method may override them, as ``linear_probe`` does
for its head-only fit), and none can tune on test data because the
loop never sees it.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from benchmark.faults import fault_point
from benchmark.models.backbones.base import States, autocast

log = logging.getLogger(__name__)


class DivergedError(RuntimeError):
    """Training produced a non-finite loss."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of a protocol (the same for every method)."""

    max_epochs: int = 3
    #: Epochs without a validation improvement tolerated before stopping (0: stop at the first).
    patience: int = 1
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    eval_batch_size: int = 256
    #: bf16 autocast: set from the protocol's resolved ``precision`` (not a suite key).
    bf16: bool = False
    #: An epoch passes over the training set as often as it takes to see at least this many
    #: examples (0: once), so a 100-example target gets as many optimiser steps as a
    #: 1,000-example one and low-data baselines are not simply under-trained.
    min_epoch_examples: int = 0

    def __post_init__(self) -> None:
        # A setting that cannot train (lr 0, no epoch) would give runs recorded ok at chance
        # accuracy; refuse it here, where every suite and method override passes.
        problem = train_config_problem(self)
        if problem:
            raise ValueError(problem)


#: Lower bound of each numeric TrainConfig field (and whether it must be above it, not at it),
#: with an example value for the message.
_RANGES: dict[str, tuple[float, bool, str]] = {
    "max_epochs": (1, False, "3"), "patience": (0, False, "1"), "batch_size": (1, False, "32"),
    "lr": (0.0, True, "1.0e-4"), "head_lr": (0.0, True, "1.0e-3"), "weight_decay": (0.0, False, "0.01"),
    "eval_batch_size": (1, False, "256"), "min_epoch_examples": (0, False, "0"),
}


def train_config_problem(config: TrainConfig) -> str:
    """The first out-of-range field of ``config`` as ``"lr must be ... got -1.0"``, or ''."""
    for name, (low, strict, example) in _RANGES.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} must be a number, e.g. {example}, got {value!r}"
        if not math.isfinite(value) or value < low or (strict and value == low):
            bound = f"> {low:g}" if strict else f">= {low:g}"
            return f"{name} must be a finite number {bound}, e.g. {example}, got {value!r}"
    return ""


@dataclass
class LabeledStates:
    """Stem states of a split with their labels ``(N,)`` and stable ids."""

    states: States
    labels: torch.Tensor
    ids: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def copy(self) -> LabeledStates:
        """A copy a method may change at will: the cached original serves later runs."""
        return LabeledStates(self.states.copy(), self.labels.clone(), list(self.ids))


class Classifier(nn.Module):
    """What every method returns: a trunk ``batch -> (B, D)`` and a linear head ``(B, D) -> (B, C)``."""

    def __init__(self, trunk: nn.Module, head: nn.Linear):
        super().__init__()
        self.trunk = trunk
        self.head = head

    def features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.trunk(batch)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.trunk(batch))


def new_head(in_dim: int, num_labels: int, generator: torch.Generator) -> nn.Linear:
    """A linear head initialised like ``nn.Linear`` but from an explicit generator."""
    head = nn.Linear(in_dim, num_labels)
    bound = 1.0 / math.sqrt(in_dim)
    with torch.no_grad():
        nn.init.uniform_(head.weight, -bound, bound, generator=generator)
        nn.init.uniform_(head.bias, -bound, bound, generator=generator)
    return head


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def freeze(module: ModuleT) -> ModuleT:
    """Evaluation mode, no gradients; returns the module."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def _to(batch: dict[str, torch.Tensor], device: str) -> dict[str, torch.Tensor]:
    """Move a batch to ``device``; cached bf16 states become float32 (autocast recasts)."""
    return {k: v.to(device).float() if v.is_floating_point() else v.to(device) for k, v in batch.items()}


@torch.no_grad()
def batched_outputs(module: nn.Module, states: States, config: TrainConfig, device: str = "cpu") -> torch.Tensor:
    """``module`` applied to every example of ``states`` in eval mode: ``(N, K)`` float32, in order."""
    module.eval()
    out: torch.Tensor | None = None
    for idx in states.batches(config.eval_batch_size):
        with autocast(device, config.bf16):
            values = module(_to(states.batch(idx), device)).float().cpu()
        if out is None:
            out = torch.empty((len(states), values.shape[1]))
        out[idx] = values
    assert out is not None
    return out


def predict_logits(model: nn.Module, states: States, config: TrainConfig, device: str = "cpu") -> torch.Tensor:
    """Logits ``(N, C)`` of a classifier."""
    return batched_outputs(model, states, config, device)


def pooled_features(trunk: nn.Module, states: States, config: TrainConfig, device: str = "cpu") -> torch.Tensor:
    """Trunk outputs ``(N, D)`` (e.g. a frozen teacher's features)."""
    return batched_outputs(trunk, states, config, device)


def normalized_feature_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean of ``||s/|s| - t/|t|||^2`` over rows of ``(B, D)`` features (0 when aligned, at most 4)."""
    return (F.normalize(student, dim=1) - F.normalize(teacher, dim=1)).pow(2).sum(1).mean()


def batch_features(module: nn.Module, states: States, idx: torch.Tensor, config: TrainConfig,
                   device: str = "cpu") -> torch.Tensor:
    """``module`` (e.g. a trunk, in its current mode, with gradients) on examples ``idx`` of
    ``states``: ``(B, D)`` float32. For a second task's batches inside a training loop."""
    with autocast(device, config.bf16):
        return module(_to(states.batch(idx), device)).float()


def accuracy_of(model: nn.Module, data: LabeledStates, config: TrainConfig, device: str) -> float:
    return float((predict_logits(model, data.states, config, device).argmax(1) == data.labels).float().mean())


def bucketed_order(states: States, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled batches of similar-length examples (less padding), order drawn from ``generator``."""
    perm = torch.randperm(len(states), generator=generator)
    if states.lengths is None:
        return list(perm.split(batch_size))
    chunk = batch_size * 8
    batches: list[torch.Tensor] = []
    for start in range(0, len(perm), chunk):
        part = perm[start : start + chunk]
        part = part[torch.argsort(states.lengths[part], stable=True)]
        batches.extend(part.split(batch_size))
    order = torch.randperm(len(batches), generator=generator)
    return [batches[i] for i in order.tolist()]


#: Extra loss term: (features (B, D), logits (B, C), example indices (B,)) -> scalar.
ExtraLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainResult:
    """What a training run measured: validation accuracy per epoch and work done."""

    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0
    examples_processed: int = 0
    losses: list[float] = field(default_factory=list)


def fit(
    model: Classifier,
    train: LabeledStates,
    validation: LabeledStates,
    config: TrainConfig,
    generator: torch.Generator,
    *,
    extra_loss: ExtraLoss | None = None,
    device: str = "cpu",
    max_epochs: int | None = None,
    lr: float | None = None,
    extra_parameters: Sequence[nn.Parameter] = (),
    desc: str = "train",
) -> TrainResult:
    """Train ``model`` in place with AdamW and early stopping on validation accuracy.

    Parameters with ``requires_grad=False`` stay frozen. ``extra_parameters`` (e.g. a second
    task's head used by ``extra_loss``) train at the head's learning rate. The best epoch's
    weights of ``model`` (highest validation accuracy, earliest on ties) are restored at the end.
    """
    model.to(device)
    head_params = [p for p in model.head.parameters() if p.requires_grad] + list(extra_parameters)
    trunk_params = [p for p in model.trunk.parameters() if p.requires_grad]
    groups = [{"params": head_params, "lr": config.head_lr}]
    if trunk_params:
        groups.append({"params": trunk_params, "lr": lr if lr is not None else config.lr})
    # fused: one kernel per step instead of a loop over parameters (up to 18% of an image run).
    optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay, fused=True)
    result = TrainResult()
    best_acc, best_state, stale = -1.0, copy.deepcopy(model.state_dict()), 0
    epochs = max_epochs if max_epochs is not None else config.max_epochs
    bar = tqdm(range(epochs), desc=desc, leave=False, unit="epoch")
    passes = max(1, -(-config.min_epoch_examples // max(1, len(train))))
    for epoch in bar:
        model.train()
        total = 0.0
        order = [idx for _ in range(passes) for idx in bucketed_order(train.states, config.batch_size, generator)]
        for idx in order:
            batch = _to(train.states.batch(idx), device)
            with autocast(device, config.bf16):
                feats = model.features(batch)
                logits = model.head(feats)
            loss = F.cross_entropy(logits.float(), train.labels[idx].to(device))
            if extra_loss is not None:
                loss = loss + extra_loss(feats.float(), logits.float(), idx)
            if not torch.isfinite(loss):
                raise DivergedError(f"non-finite loss ({loss.item()}) at epoch {epoch}; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            result.examples_processed += len(idx)
        result.losses.append(total / (passes * len(train)))
        acc = accuracy_of(model, validation, config, device)
        result.examples_processed += len(validation)
        result.val_accuracy.append(acc)
        fault_point("train.epoch")
        bar.set_postfix(loss=f"{result.losses[-1]:.3f}", val_acc=f"{acc:.3f}")
        if acc > best_acc:
            best_acc, best_state, stale, result.best_epoch = acc, copy.deepcopy(model.state_dict()), 0, epoch
        else:
            stale += 1
            if stale > config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return result
