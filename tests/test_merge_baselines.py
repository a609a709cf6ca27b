"""The pure helpers of the ``fisher_merge`` and ``regmean`` baselines (and the context's
``select_merge``), on tiny hand-made models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmark.baselines.fisher_merge import empirical_fisher, weighted_fishers
from benchmark.baselines.regmean import trunk_grams
from benchmark.models.backbones.base import States
from benchmark.models.merge_many import (
    diagonal_fisher,
    differing_parameters,
    gram,
    linear_grams,
    linear_inputs,
    regmean_merge_modules,
)
from benchmark.models.method import FitContext
from benchmark.models.training import Classifier, LabeledStates, TrainConfig


class _Trunk(nn.Module):
    """A batch ``{"x": (B, 5)}`` -> (B, 4) through two linear layers."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 4))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.body(batch["x"])


class _OnTensors(nn.Module):
    def __init__(self, model: Classifier):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model({"x": x})


def _classifier(seed: int) -> Classifier:
    torch.manual_seed(100 + seed)
    return Classifier(_Trunk(seed), nn.Linear(4, 3))


def _data(n: int = 20, seed: int = 0) -> LabeledStates:
    x = torch.randn(n, 5, generator=torch.Generator().manual_seed(seed))
    return LabeledStates(States(x), torch.zeros(n, dtype=torch.long), [str(i) for i in range(n)])


def test_empirical_fisher_is_diagonal_fisher_on_fixed_size_inputs() -> None:
    model, data = _classifier(0), _data()
    names = [n for n, _ in model.trunk.named_parameters()]
    ours = empirical_fisher(model, data, names)
    reference = diagonal_fisher(_OnTensors(model), data.states.data)
    for n in names:
        torch.testing.assert_close(ours[n], reference[f"model.trunk.{n}"], rtol=1e-5, atol=1e-8)
    assert model.training and all(p.requires_grad for p in model.parameters())  # restored


def test_empirical_fisher_takes_only_the_named_parameters_and_the_first_examples() -> None:
    model, data = _classifier(1), _data(30)
    model.trunk.requires_grad_(False)
    part = empirical_fisher(model, data, ["body.2.weight"], max_examples=7)
    assert list(part) == ["body.2.weight"]
    first = LabeledStates(States(data.states.data[:7]), data.labels[:7], data.ids[:7])
    whole = empirical_fisher(model, first, ["body.2.weight"])
    torch.testing.assert_close(part["body.2.weight"], whole["body.2.weight"])
    assert not any(p.requires_grad for p in model.trunk.parameters())  # restored


def test_weighted_fishers_give_the_target_its_weight_and_split_the_rest() -> None:
    ones = {"w": torch.ones(2)}
    scaled = weighted_fishers([ones, ones, ones], 0.4)
    assert [float(f["w"][0]) for f in scaled] == pytest.approx([0.4, 0.3, 0.3])


def test_differing_parameters_are_the_ones_some_model_changed() -> None:
    a, b = _Trunk(0), _Trunk(0)
    assert differing_parameters([a, b]) == []
    with torch.no_grad():
        b.body[2].bias.add_(1.0)
    assert differing_parameters([a, b, a]) == ["body.2.bias"]


def test_linear_grams_are_the_grams_of_the_recorded_inputs() -> None:
    trunk, data = _Trunk(2), _data(25)

    def run() -> None:
        for idx in data.states.batches(8):
            trunk(data.states.batch(idx))

    grams = linear_grams(trunk, run)
    inputs = linear_inputs(trunk, run)
    assert set(grams) == set(inputs) == {"body.0", "body.2"}
    for name in grams:
        torch.testing.assert_close(grams[name], gram(inputs[name]), rtol=1e-5, atol=1e-5)
    batched = trunk_grams(trunk, data, TrainConfig(eval_batch_size=8), max_examples=10)
    first = linear_inputs(trunk, lambda: trunk({"x": data.states.data[:10]}))
    torch.testing.assert_close(batched["body.0"], gram(first["body.0"]), rtol=1e-5, atol=1e-5)


def test_regmean_from_grams_is_regmean_from_inputs() -> None:
    trunks, data = [_Trunk(0), _Trunk(1), _Trunk(2)], [_data(20, s) for s in range(3)]
    inputs = [linear_inputs(t, lambda t=t, d=d: t({"x": d.states.data})) for t, d in zip(trunks, data, strict=True)]
    grams = [{n: gram(x) for n, x in rec.items()} for rec in inputs]
    for alpha in (0.5, 1.0):
        from_inputs = regmean_merge_modules(trunks, inputs, alpha)
        from_grams = regmean_merge_modules(trunks, None, alpha, grams_per_module=grams)
        for n in from_inputs:
            torch.testing.assert_close(from_grams[n], from_inputs[n])


def test_select_merge_keeps_the_first_best_candidate_and_records_every_one() -> None:
    model = _classifier(0)
    x = torch.randn(12, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        labels = model({"x": x}).argmax(1)
    val = LabeledStates(States(x), labels, [str(i) for i in range(12)])
    ctx = FitContext(backbone=None, config=TrainConfig(), num_labels=3, train=val, validation=val,  # type: ignore[arg-type]
                     make_trunk=lambda: _Trunk(0), source=None, generator=torch.Generator())
    tuned = {n: p.detach().clone() for n, p in model.trunk.named_parameters()}
    broken = {n: torch.zeros_like(p) for n, p in tuned.items()}
    chosen = ctx.select_merge(model, lambda c: tuned if c in (0.5, 0.7) else broken, [0.1, 0.5, 0.7], "w")
    record = ctx.training[-1]
    assert chosen == 0.5 and record["merge_scale"] == 0.5 and record["merge_coefficient"] == "w"
    assert record["merge_val_accuracy"][1] == 1.0 and len(record["merge_val_accuracy"]) == 3
    assert all(torch.equal(p, tuned[n]) for n, p in model.trunk.named_parameters())
    assert ctx.examples_processed == 3 * 12
