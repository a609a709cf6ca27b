"""Pretrained encoders, split into a frozen *stem* (run once, cached) and a trainable *trunk*.

A protocol trains the top ``k`` blocks of a backbone (``top-k``), only a linear head
(``head``), or every block (``all``). The stem (everything below the trained blocks) is
frozen, so its outputs are computed once per (backbone, stem, task, split subsample),
cached on disk by content, and shared by every method and seed.

Shapes: text stem states are unpadded per example, stored flat as ``(sum_i T_i, H)`` with
``lengths (N,)``; image stem states are ``(N, C, H, W)``. A trunk maps a batch to pooled
features ``(B, D)``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import datasets
import numpy as np
import torch
from torch import nn

from benchmark.faults import fault_point
from benchmark.fingerprint import code_fingerprint, split_fingerprint

log = logging.getLogger(__name__)

StemInit = Literal["pretrained", "random"]
PairEncoding = Literal["siamese", "cross"]
PAIR_ENCODINGS: tuple[str, ...] = ("siamese", "cross")


@dataclass(frozen=True)
class InputSettings:
    """How a protocol feeds text to a backbone (image backbones ignore it).

    ``tokens``: token budget of a single text (None: the backbone's default).
    ``pair_encoding``: ``siamese`` encodes each sentence of a pair on its own and pools to
    ``(u, v, |u-v|, u*v)``; ``cross`` encodes ``[CLS] a [SEP] b [SEP]`` as one sequence.
    ``pair_tokens``: budget of each sentence (siamese) or of the joint sequence (cross).
    """

    tokens: int | None = None
    pair_tokens: int | None = None
    pair_encoding: PairEncoding = "siamese"


@dataclass
class States:
    """Cached stem outputs for N examples.

    ``data`` is ``(sum T_i, H)`` with ``lengths (N,)`` for sequences, or ``(N, ...)`` with
    ``lengths`` None for fixed-size inputs. Sentence pairs encoded separately store both
    sentences' states back to back as one sequence; ``first (N,)`` is then the length of
    the first sentence's part (None for single sequences).
    """

    data: torch.Tensor
    lengths: torch.Tensor | None = None
    first: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.lengths is not None:
            self._offsets = torch.zeros(len(self.lengths) + 1, dtype=torch.long)
            torch.cumsum(self.lengths, 0, out=self._offsets[1:])
        if self.first is not None and (self.lengths is None or self.first.shape != self.lengths.shape):
            raise ValueError("States.first needs sequence lengths of the same shape")

    def __len__(self) -> int:
        return len(self.lengths) if self.lengths is not None else self.data.shape[0]

    def copy(self) -> States:
        """Deep copy (new tensors): what a method may change without touching the cache."""
        return States(self.data.clone(), None if self.lengths is None else self.lengths.clone(),
                      None if self.first is None else self.first.clone())

    def batch(self, index: torch.Tensor | np.ndarray | list[int]) -> dict[str, torch.Tensor]:
        """Inputs of a trunk for examples ``index``: ``{"x": (B, ...)}``, plus ``"mask": (B, T)``
        for sequences and ``"segment": (B, T)`` (0 on the first sentence, 1 after) for pairs."""
        idx = torch.as_tensor(index, dtype=torch.long)
        if self.lengths is None:
            return {"x": self.data[idx]}
        lengths = self.lengths[idx]
        t_max = int(lengths.max())
        # One gather for the whole batch (a copy per example was 10% of a text run).
        valid = torch.arange(t_max)[None, :] < lengths[:, None]  # (B, T)
        rows = (self._offsets[idx][:, None] + torch.arange(t_max)[None, :])[valid]
        x = self.data.new_zeros((len(idx), t_max, self.data.shape[1]))
        x[valid] = self.data[rows]
        out = {"x": x, "mask": valid.long()}
        if self.first is not None:
            out["segment"] = (torch.arange(t_max)[None, :] >= self.first[idx][:, None]).long()
        return out

    def batches(self, batch_size: int) -> list[torch.Tensor]:
        """Index batches sorted by length (sequences, to minimise padding) or in order."""
        order = torch.argsort(self.lengths, stable=True) if self.lengths is not None else torch.arange(len(self))
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # own name: workers may race
        torch.save({"data": self.data, "lengths": self.lengths, "first": self.first}, tmp)
        fault_point("stem_cache.before_replace")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> States:
        blob = torch.load(path, weights_only=True)
        return cls(blob["data"], blob["lengths"], blob.get("first"))

    @classmethod
    def dense(cls, features: torch.Tensor) -> States:
        return cls(features, None)

    @classmethod
    def pairs(cls, a: States, b: States) -> States:
        """Each example's states of ``a`` followed by its states of ``b`` (same N, sequences)."""
        if a.lengths is None or b.lengths is None or len(a) != len(b):
            raise ValueError("States.pairs joins two sequence States of the same length")
        parts: list[torch.Tensor] = []
        for i in range(len(a)):
            parts.append(a.data[a._offsets[i] : a._offsets[i + 1]])
            parts.append(b.data[b._offsets[i] : b._offsets[i + 1]])
        return cls(torch.cat(parts), a.lengths + b.lengths, a.lengths.clone())


class Backbone(ABC):
    """A pretrained encoder for one input family.

    ``num_blocks`` counts the blocks a protocol can train; ``feature_dim`` is the width of
    the pooled features a trunk returns.
    """

    name: str
    family: str
    num_blocks: int
    feature_dim: int

    def for_task(self, kind: str, inputs: InputSettings) -> Backbone:
        """This backbone as it encodes tasks of ``kind`` (e.g. ``text-pair``) under ``inputs``:
        a view with its own token budget and feature width; the weights are shared."""
        return self

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that determines the stem's output (for cache keys)."""

    @abstractmethod
    def build(self, init: StemInit, generator: torch.Generator | None) -> nn.Module:
        """The whole encoder with pretrained or random (seeded by ``generator``) weights."""

    @abstractmethod
    def stem_forward(self, model: nn.Module, n_frozen: int, examples: datasets.Dataset,
                     batch_size: int, device: str, bf16: bool) -> States:
        """Run the first ``n_frozen`` blocks on ``examples`` (standard task columns)."""

    @abstractmethod
    def trunk(self, model: nn.Module, n_frozen: int) -> nn.Module:
        """Blocks ``n_frozen..`` plus pooling, taking ``States.batch`` dicts to ``(B, D)``."""

    def encode(self, examples: datasets.Dataset, n_frozen: int, init: StemInit, seed: int,
               cache: FeatureCache | None, batch_size: int = 64, device: str = "cpu",
               bf16: bool = True) -> States:
        """Stem outputs for ``examples``, from ``cache`` when it has them."""
        key = {
            "backbone": self.identity(), "n_frozen": n_frozen, "init": init,
            "seed": seed if init == "random" else None,
            "examples": _examples_fingerprint(examples), "bf16": bf16,
            # The closure of this backbone's module: e.g. the attention kernel changes the states' bits.
            "code": code_fingerprint([inspect.getfile(type(self))]),
        }

        def compute() -> States:
            generator = torch.Generator().manual_seed(seed) if init == "random" else None
            model = self.build(init, generator).to(device).eval()
            return self.stem_forward(model, n_frozen, examples, batch_size, device, bf16)

        return cache.get_or_compute("stem", key, compute) if cache else compute()


def _examples_fingerprint(examples: datasets.Dataset) -> str:
    """Hash of the content of a split subsample: ids and inputs (the caller drops the labels,
    which the stem never sees)."""
    return split_fingerprint(examples)[:32]


class FeatureCache:
    """On-disk cache of :class:`States` keyed by the hash of what determines them."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, kind: str, key: dict[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:40]
        return self.root / kind / f"{digest}.pt"

    def get_or_compute(self, kind: str, key: dict[str, Any], compute: Callable[[], States]) -> States:
        path = self.path(kind, key)
        if path.exists():
            try:
                return States.load(path)
            except Exception as exc:  # a torn or stale file is recomputed, not fatal
                log.warning("recomputing unreadable cache file %s (%s)", path, exc)
        states = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        states.save(path)
        return states



def autocast(device: str, enabled: bool = True) -> torch.autocast:
    """bf16 autocast on ``device`` when ``enabled`` (the protocol's resolved precision is bf16:
    see :mod:`benchmark.models.precision`); a no-op context otherwise."""
    return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16, enabled=enabled)
