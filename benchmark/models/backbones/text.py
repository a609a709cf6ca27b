"""Text backbones: BERT-style encoders (MiniLM-L6 offline, any Hub id), mean-pooled.

Sentence pairs are encoded one of two ways (the protocol's ``pair_encoding``):
``siamese`` (default) runs each sentence through the encoder on its own and pools to
``(u, v, |u-v|, u*v)`` (Reimers & Gurevych 2019, Sentence-BERT), which suits a backbone
trained as a sentence embedder and gives each sentence its own token budget; ``cross``
encodes ``[CLS] a [SEP] b [SEP]`` as one sequence, truncating the longer sentence first.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import datasets
import torch
from torch import nn
from tqdm.auto import tqdm

from benchmark.errors import ConfigError, SourceUnavailable
from benchmark.models.backbones.base import Backbone, InputSettings, States, StemInit, autocast

log = logging.getLogger(__name__)

# --- text ----------------------------------------------------------------------------------


class TextTrunk(nn.Module):
    """Top transformer layers + attention-masked mean pooling.

    ``{"x": (B,T,H), "mask": (B,T)} -> (B,H)``; with ``"segment": (B,T)`` (two sentences
    back to back, see :meth:`States.pairs`) each sentence attends only to itself and the
    output is ``(u, v, |u-v|, u*v)``, ``(B, 4H)``: the same layers encode both (siamese).
    """

    def __init__(self, layers: nn.ModuleList, config: Any):
        super().__init__()
        self.layers = layers
        self.config = config

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x, mask = batch["x"], batch["mask"]
        segment = batch.get("segment")
        if len(self.layers):
            x = self._encode(x, mask, segment)
        if segment is None:
            return _mean(x, mask.bool())
        u = _mean(x, mask.bool() & (segment == 0))
        v = _mean(x, mask.bool() & (segment == 1))
        return torch.cat([u, v, (u - v).abs(), u * v], dim=1)

    def _encode(self, x: torch.Tensor, mask: torch.Tensor, segment: torch.Tensor | None) -> torch.Tensor:
        if segment is None:
            from transformers.masking_utils import create_bidirectional_mask

            attn = create_bidirectional_mask(config=self.config, inputs_embeds=x, attention_mask=mask)
        else:
            # (B, 1, T, T): a token sees the valid tokens of its own sentence.
            # A padding query (segment 1) sees the second sentence, so no row is fully masked;
            # its output is never pooled.
            allowed = ((segment[:, :, None] == segment[:, None, :]) & mask.bool()[:, None, :])[:, None]
            # Additive (0 / most negative), the form eager attention adds to its scores.
            attn = torch.zeros(allowed.shape, dtype=x.dtype, device=x.device)
            attn = attn.masked_fill(~allowed, torch.finfo(x.dtype).min)
        for layer in self.layers:
            out = layer(x, attention_mask=attn)
            x = out[0] if isinstance(out, tuple) else out
        return x


def _mean(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of ``x (B,T,H)`` over the positions where ``keep (B,T)`` is True -> ``(B,H)``."""
    m = keep.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class HFTextBackbone(Backbone):
    """A BERT-style encoder from a local folder or Hub id; mean-pooled (sentence-transformers style).

    ``max_length`` is the token budget of a single text, ``pair_max_length`` that of each
    sentence of a pair (siamese) or of the joint pair sequence (cross). :meth:`for_task`
    gives the view a task kind and protocol use; views share the loaded config and tokenizer.
    """

    family = "text"

    def __init__(self, name: str, path: str | Callable[[], str], max_length: int = 128,
                 pair_max_length: int = 128):
        self.name = name
        self._path = path
        self.max_length = max_length
        self.pair_max_length = pair_max_length
        self.kind = "text"
        self.pair_encoding = "siamese"
        self._loaded: dict[str, Any] = {}  # shared by views (copy.copy keeps the same dict)

    def for_task(self, kind: str, inputs: InputSettings) -> HFTextBackbone:
        view = copy.copy(self)
        view.kind = kind
        view.max_length = inputs.tokens or self.max_length
        view.pair_max_length = inputs.pair_tokens or self.pair_max_length
        view.pair_encoding = inputs.pair_encoding
        limit = int(getattr(self.config, "max_position_embeddings", 512))
        for key, value in (("tokens", view.max_length), ("pair_tokens", view.pair_max_length)):
            if value > limit:
                raise ConfigError(f"{key} {value} exceeds backbone {self.name!r}'s {limit} positions; "
                                  f"set {key} <= {limit}.")
        return view

    @property
    def path(self) -> str:
        return self._path() if callable(self._path) else self._path

    @property
    def config(self) -> Any:
        if "config" not in self._loaded:
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
            cfg._attn_implementation = "eager"
            self._loaded["config"] = cfg
        return self._loaded["config"]

    @property
    def num_blocks(self) -> int:  # type: ignore[override]
        return int(self.config.num_hidden_layers)

    @property
    def siamese(self) -> bool:
        return self.kind == "text-pair" and self.pair_encoding == "siamese"

    @property
    def feature_dim(self) -> int:  # type: ignore[override]
        return int(self.config.hidden_size) * (4 if self.siamese else 1)

    @property
    def tokenizer(self) -> Any:
        if "tokenizer" not in self._loaded:
            from transformers import AutoTokenizer

            self._loaded["tokenizer"] = AutoTokenizer.from_pretrained(self.path)
        return self._loaded["tokenizer"]

    def identity(self) -> dict[str, Any]:
        if self.kind == "text-pair":
            return {"name": self.name, "path": str(self.path), "pair_encoding": self.pair_encoding,
                    "max_length": self.pair_max_length}
        return {"name": self.name, "path": str(self.path), "max_length": self.max_length}

    def build(self, init: StemInit, generator: torch.Generator | None) -> nn.Module:
        from transformers import AutoModel

        if init == "pretrained":
            model = AutoModel.from_pretrained(self.path, config=self.config)
        else:
            model = AutoModel.from_config(self.config)
            _init_bert_(model, generator, std=float(getattr(self.config, "initializer_range", 0.02)))
        return model

    def tokenize(self, texts: list[str], max_length: int, second: list[str] | None = None) -> list[list[int]]:
        """Token ids of ``texts`` (or of the pairs ``texts[i]``, ``second[i]`` as one sequence)."""
        enc = self.tokenizer(texts, second, truncation=True, max_length=max_length)
        return list(enc["input_ids"])

    def stem_forward(self, model: Any, n_frozen: int, examples: datasets.Dataset,
                     batch_size: int, device: str, bf16: bool) -> States:
        if "text" in examples.column_names:
            ids = self.tokenize(list(examples["text"]), self.max_length)
        elif not self.siamese:
            ids = self.tokenize(list(examples["premise"]), self.pair_max_length, list(examples["hypothesis"]))
        else:
            a, b = (self._run(model, n_frozen, self.tokenize(list(examples[c]), self.pair_max_length),
                              batch_size, device, bf16, f"encode {c}s") for c in ("premise", "hypothesis"))
            return States.pairs(a, b)
        return self._run(model, n_frozen, ids, batch_size, device, bf16, "encode text")

    def _run(self, model: Any, n_frozen: int, ids: list[list[int]], batch_size: int, device: str,
             bf16: bool, desc: str) -> States:
        """Embeddings and the first ``n_frozen`` blocks on token sequences, sorted by length."""
        from transformers.masking_utils import create_bidirectional_mask

        lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
        order = torch.argsort(lengths, stable=True)
        out: list[torch.Tensor | None] = [None] * len(ids)
        pad = int(self.tokenizer.pad_token_id or 0)
        layers = model.encoder.layer[:n_frozen]
        with torch.inference_mode(), autocast(device, bf16):
            for chunk in tqdm(order.split(batch_size), desc=desc, leave=False, unit="batch"):
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


