"""Text backbones: BERT-style encoders (MiniLM-L6 offline, any Hub id), mean-pooled."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import datasets
import torch
from torch import nn
from tqdm.auto import tqdm

from benchmark.errors import SourceUnavailable
from benchmark.models.backbones.base import Backbone, States, StemInit, autocast

log = logging.getLogger(__name__)

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
                     batch_size: int, device: str, bf16: bool) -> States:
        from transformers.masking_utils import create_bidirectional_mask

        ids = self.tokenize(examples)
        lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
        order = torch.argsort(lengths, stable=True)
        out: list[torch.Tensor | None] = [None] * len(ids)
        pad = int(self.tokenizer.pad_token_id or 0)
        layers = model.encoder.layer[:n_frozen]
        with torch.inference_mode(), autocast(device, bf16):
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


