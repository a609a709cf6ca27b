"""How text reaches the backbone: token budgets, the siamese pair encoding, trainable tops.

Real MiniLM-L6 weights and real sentences (statements of the shipped ``debates`` task).
"""

from __future__ import annotations

import copy
from pathlib import Path

import datasets
import pytest
import torch

from benchmark.data.task import get_task
from benchmark.errors import ConfigError
from benchmark.models.backbones import HFTextBackbone, InputSettings, States, get_backbone
from benchmark.models.training import Classifier, fit, freeze, new_head
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import Workspace


@pytest.fixture(scope="module")
def minilm() -> HFTextBackbone:
    backbone = get_backbone("minilm-l6")
    assert isinstance(backbone, HFTextBackbone)
    return backbone


@pytest.fixture(scope="module")
def pretrained(minilm: HFTextBackbone) -> torch.nn.Module:
    return freeze(minilm.build("pretrained", None))


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return [str(t) for t in get_task("debates").load_full()["train"]["text"][:12]]


def _float(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in batch.items()}


def test_siamese_pair_features_are_each_sentence_encoded_alone(
        minilm: HFTextBackbone, pretrained: torch.nn.Module, sentences: list[str]) -> None:
    a, b = sentences[:6], sentences[6:]
    n_frozen = minilm.num_blocks - 1
    pair_view = minilm.for_task("text-pair", InputSettings(pair_tokens=40))
    text_view = minilm.for_task("text", InputSettings(tokens=40))
    pairs = pair_view.stem_forward(pretrained, n_frozen, datasets.Dataset.from_dict({"premise": a, "hypothesis": b}),
                                   4, "cpu", False)
    alone = [text_view.stem_forward(pretrained, n_frozen, datasets.Dataset.from_dict({"text": s}), 4, "cpu", False)
             for s in (a, b)]
    trunk = pair_view.trunk(copy.deepcopy(pretrained), n_frozen)
    with torch.no_grad():
        features = trunk(_float(pairs.batch(range(6))))
        u, v = (trunk(_float(st.batch(range(6)))) for st in alone)
    assert pair_view.feature_dim == 4 * text_view.feature_dim == features.shape[1] == 4 * 384
    torch.testing.assert_close(features, torch.cat([u, v, (u - v).abs(), u * v], 1), atol=2e-4, rtol=2e-4)
    # The cross encoding of the same pairs is one sequence and one mean: other features, width H.
    cross_view = minilm.for_task("text-pair", InputSettings(pair_tokens=80, pair_encoding="cross"))
    cross = cross_view.stem_forward(pretrained, n_frozen, datasets.Dataset.from_dict({"premise": a, "hypothesis": b}),
                                    4, "cpu", False)
    assert cross.first is None and cross_view.feature_dim == 384
    with torch.no_grad():
        assert trunk(_float(cross.batch(range(6)))).shape == (6, 384)


def test_each_sentence_of_a_pair_keeps_its_own_budget(minilm: HFTextBackbone, pretrained: torch.nn.Module,
                                                      sentences: list[str]) -> None:
    long_first = [sentences[0] + " " + sentences[1], sentences[2] + " " + sentences[3]]
    short = ["We agree.", "That is not true."]
    full = [len(x) for x in minilm.tokenize(long_first, 512)]
    assert min(full) > 24  # the premises really are longer than the budget
    view = minilm.for_task("text-pair", InputSettings(pair_tokens=24))
    st = view.stem_forward(pretrained, 2, datasets.Dataset.from_dict({"premise": long_first, "hypothesis": short}),
                           4, "cpu", False)
    assert st.first is not None and st.lengths is not None
    assert st.first.tolist() == [24, 24]  # premise truncated to its own budget ...
    assert (st.lengths - st.first).tolist() == [len(x) for x in minilm.tokenize(short, 24)]  # ... hypothesis whole
    # cross: one budget for the pair, the longer sentence truncated first, both kept
    ids = minilm.tokenize(long_first, 24, second=short)
    sep = minilm.tokenizer.sep_token_id
    assert all(len(x) == 24 and x.count(sep) == 2 for x in ids)


def test_pair_states_round_trip_and_batch_segments(tmp_path: Path) -> None:
    a = States(torch.arange(10, dtype=torch.float32).reshape(5, 2), torch.tensor([2, 3]))
    b = States(torch.arange(8, dtype=torch.float32).reshape(4, 2) + 100, torch.tensor([1, 3]))
    pairs = States.pairs(a, b)
    batch = pairs.batch([1, 0])
    # padding counts as the second segment (masked out of its mean)
    assert batch["segment"].tolist() == [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]]
    assert batch["mask"].tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    assert batch["x"][1, 2, 0] == 100  # example 0: its 2 premise rows, then its hypothesis row
    pairs.save(tmp_path / "p.pt")
    back = States.load(tmp_path / "p.pt")
    assert back.first is not None and torch.equal(back.first, pairs.first)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same length"):
        States.pairs(a, States(b.data[:1], torch.tensor([1])))


def test_a_budget_beyond_the_backbones_positions_is_refused(minilm: HFTextBackbone) -> None:
    with pytest.raises(ConfigError, match="pair_tokens 4096 exceeds backbone 'minilm-l6'.s 512 positions"):
        minilm.for_task("text-pair", InputSettings(pair_tokens=4096))


def test_a_pair_targets_trunk_trains(smoke_cache: Path) -> None:
    """The trunk factory copies the shared pretrained model: its copy must be trainable (a
    trunk copied from a frozen model would silently train only the head)."""
    ws = Workspace(get_suite("smoke"), cache_dir=smoke_cache)
    rt = ws.resolve("synthetic_nli")
    assert rt.backbone.feature_dim == 4 * 384
    trunk = ws.trunk_factory(rt, "pretrained", 0)()
    params = list(trunk.parameters())
    assert params and all(p.requires_grad for p in params)
    before = [p.detach().clone() for p in params]
    gen = torch.Generator().manual_seed(0)
    model = Classifier(trunk, new_head(rt.backbone.feature_dim, rt.task.num_labels, gen))
    budget = ws.resolve("synthetic_nli").protocol.train_budgets[0]
    train = ws.states("synthetic_nli", 0, "target", "train", "pretrained", budget)
    val = ws.states("synthetic_nli", 0, "target", "validation", "pretrained", budget)
    assert train.states.first is not None
    fit(model, train, val, rt.protocol.train, gen, max_epochs=1)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.trunk.parameters(), strict=True))
