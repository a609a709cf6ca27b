"""Properties of the K-model merging functions of ``benchmark.models.merge_many``: merging identical
models changes nothing, special cases reduce to each other, RegMean is the least-squares merge, DARE
is unbiased and reproducible, the diagonal Fisher matches a hand computation, bad inputs are refused.

The modules are tiny and their weights are generated from seeded ``torch.Generator``s (no
pretrained model, no data set): the properties are exact, so small real modules test them."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from benchmark.models.merge_many import (
    dare,
    diagonal_fisher,
    fisher_merge,
    gram,
    linear_inputs,
    regmean_merge,
    regmean_merge_modules,
    simple_average,
    task_arithmetic_merge,
)
from benchmark.models.merging import add_vector, task_vector, ties_merge

M = TypeVar("M", bound=nn.Module)


def _fill(module: M, seed: int) -> M:
    """Give ``module`` weights drawn from a seeded generator (no global randomness)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return module


def _mlp(seed: int) -> nn.Sequential:
    return _fill(nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.ReLU(), nn.Linear(6, 3)), seed)


def _params(module: nn.Module) -> dict[str, Tensor]:
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def _assert_dicts_close(actual: dict[str, Tensor], expected: dict[str, Tensor],
                        rtol: float = 1e-6, atol: float = 1e-7) -> None:
    assert list(actual) == list(expected)
    for n in expected:
        assert actual[n].shape == expected[n].shape, n
        torch.testing.assert_close(actual[n], expected[n], rtol=rtol, atol=atol, msg=n)


def _randn(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- merging K identical models gives that model ------------------------------------------------

K = 3


def test_simple_average_of_identical_models_is_the_model() -> None:
    model = _params(_mlp(0))
    _assert_dicts_close(simple_average([model] * K), model)


def test_task_arithmetic_of_identical_vectors_with_coefficients_one_over_k_is_the_vector() -> None:
    tau = task_vector(_mlp(1), _mlp(0))
    _assert_dicts_close(task_arithmetic_merge([tau] * K, [1 / K] * K), tau)
    # general coefficients: (sum_k c_k) tau
    merged = task_arithmetic_merge([tau] * K, [0.5, -1.0, 2.0])
    _assert_dicts_close(merged, {n: 1.5 * v for n, v in tau.items()})


def test_ties_with_density_one_of_identical_vectors_is_the_vector() -> None:
    tau = task_vector(_mlp(1), _mlp(0))
    _assert_dicts_close(ties_merge([tau] * K, density=1.0), tau)


def test_fisher_merge_of_identical_models_is_the_model() -> None:
    model = _params(_mlp(0))
    fishers = [{n: _randn(*p.shape, seed=10 + k).abs() for n, p in model.items()} for k in range(K)]
    _assert_dicts_close(fisher_merge([model] * K, fishers), model)


def test_regmean_of_identical_layers_is_the_layer() -> None:
    weight = _randn(3, 4, seed=0)
    grams = [gram(_randn(20, 4, seed=k)) for k in range(K)]
    torch.testing.assert_close(regmean_merge([weight] * K, grams), weight, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(regmean_merge([weight] * K, grams, alpha=0.9), weight, rtol=1e-4, atol=1e-5)


def test_regmean_modules_of_identical_modules_is_the_module() -> None:
    model = _mlp(0)
    inputs = [linear_inputs(model, functools.partial(model, _randn(16, 4, seed=k))) for k in range(K)]
    _assert_dicts_close(regmean_merge_modules([model] * K, inputs), _params(model), rtol=1e-4, atol=1e-5)


def test_dare_with_drop_rate_zero_is_an_equal_copy() -> None:
    tau = task_vector(_mlp(1), _mlp(0))
    out = dare(tau, 0.0, torch.Generator().manual_seed(0))
    assert list(out) == list(tau)
    for n in tau:
        assert torch.equal(out[n], tau[n]) and out[n] is not tau[n]


# --- task arithmetic with zero coefficients -----------------------------------------------------

def test_task_arithmetic_with_zero_coefficients_leaves_the_base_unchanged() -> None:
    pretrained, target = _mlp(0), _mlp(5)
    vectors = [task_vector(_mlp(s), pretrained) for s in (1, 2, 3)]
    merged = task_arithmetic_merge(vectors, [0.0, 0.0, 0.0])
    for n, v in merged.items():
        assert torch.equal(v, torch.zeros_like(v)), n
    edited = copy.deepcopy(pretrained)
    add_vector(edited, pretrained, merged, 1.0)
    _assert_dicts_close(_params(edited), _params(pretrained), rtol=0.0, atol=0.0)
    # a non-zero merge added with coefficient 0 to a target-tuned base: exactly the target model
    edited = copy.deepcopy(pretrained)
    add_vector(edited, target, task_arithmetic_merge(vectors, [0.3, 0.3, 0.3]), 0.0)
    _assert_dicts_close(_params(edited), _params(target), rtol=0.0, atol=0.0)


# --- Fisher merging -----------------------------------------------------------------------------

def test_fisher_merge_with_equal_fishers_is_simple_average() -> None:
    models = [_params(_mlp(s)) for s in range(K)]
    fisher = {n: _randn(*p.shape, seed=7).abs() + 0.1 for n, p in models[0].items()}
    _assert_dicts_close(fisher_merge(models, [fisher] * K), simple_average(models))


def test_fisher_merge_ignores_a_model_with_zero_fisher() -> None:
    models = [_params(_mlp(0)), _params(_mlp(1))]
    zero = {n: torch.zeros_like(p) for n, p in models[0].items()}
    positive = {n: _randn(*p.shape, seed=3).abs() + 0.1 for n, p in models[1].items()}
    _assert_dicts_close(fisher_merge(models, [zero, positive]), models[1])
    # both zero: no information, the plain mean
    _assert_dicts_close(fisher_merge(models, [zero, zero]), simple_average(models))


def test_fisher_merge_hand_values() -> None:
    models = [{"w": torch.tensor([0.0, 2.0, 1.0])}, {"w": torch.tensor([4.0, 6.0, 3.0])}]
    fishers = [{"w": torch.tensor([1.0, 0.0, 0.0])}, {"w": torch.tensor([3.0, 2.0, 0.0])}]
    # (1*0 + 3*4)/4 = 3; only model 1 informative -> 6; no Fisher anywhere -> mean 2
    assert torch.equal(fisher_merge(models, fishers)["w"], torch.tensor([3.0, 6.0, 2.0]))


# --- RegMean ------------------------------------------------------------------------------------

def test_regmean_is_the_least_squares_merge() -> None:
    out_f, in_f = 3, 5
    xs = [_randn(n, in_f, seed=k, dtype=torch.float64) for k, n in enumerate((12, 7, 20))]
    ws = [_randn(out_f, in_f, seed=100 + k, dtype=torch.float64) for k in range(3)]
    merged = regmean_merge(ws, [gram(x) for x in xs])
    # independently: min_W sum_k ||X_k W^T - X_k W_k^T||^2 as one stacked least-squares problem
    a = np.concatenate([x.numpy() for x in xs])
    b = np.concatenate([x.numpy() @ w.numpy().T for x, w in zip(xs, ws, strict=True)])
    expected_t, *_ = np.linalg.lstsq(a, b, rcond=None)
    assert merged.shape == (out_f, in_f) and merged.dtype == torch.float64
    np.testing.assert_allclose(merged.numpy(), expected_t.T, rtol=1e-10, atol=1e-10)


def test_regmean_gives_inputs_never_seen_nonzero_the_mean_column() -> None:
    xs = [_randn(9, 4, seed=k, dtype=torch.float64) for k in range(2)]
    for x in xs:
        x[:, 2] = 0  # a dead input (e.g. a ReLU unit never active): its weight column is free
    ws = [_randn(3, 4, seed=60 + k, dtype=torch.float64) for k in range(2)]
    merged = regmean_merge(ws, [gram(x) for x in xs])
    live = [0, 1, 3]
    a = np.concatenate([x[:, live].numpy() for x in xs])
    b = np.concatenate([x.numpy() @ w.numpy().T for x, w in zip(xs, ws, strict=True)])
    expected_t, *_ = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(merged[:, live].numpy(), expected_t.T, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(merged[:, 2], (ws[0][:, 2] + ws[1][:, 2]) / 2)


def test_regmean_with_alpha_zero_is_a_per_input_weighted_average() -> None:
    xs = [_randn(10, 4, seed=k, dtype=torch.float64) for k in range(2)]
    ws = [_randn(3, 4, seed=50 + k, dtype=torch.float64) for k in range(2)]
    # diagonal Grams only: column j is the average of the W_k[:, j] weighted by sum_n X_k[n, j]^2
    d = [(x**2).sum(0) for x in xs]
    expected = (d[0] * ws[0] + d[1] * ws[1]) / (d[0] + d[1])
    torch.testing.assert_close(regmean_merge(ws, [gram(x) for x in xs], alpha=0.0), expected)


def test_regmean_modules_match_per_layer_regmean_on_recorded_inputs() -> None:
    models = [_mlp(0), _mlp(1)]
    data = [[_randn(8, 4, seed=20 + 2 * k + i) for i in range(2)] for k in range(2)]
    def run(model: nn.Module, batches: list[Tensor]) -> None:
        for x in batches:
            model(x)

    inputs = [linear_inputs(m, functools.partial(run, m, bs)) for m, bs in zip(models, data, strict=True)]
    for model, batches, rec in zip(models, data, inputs, strict=True):
        assert set(rec) == {"0", "3"}
        assert torch.equal(rec["0"], torch.cat(batches))  # both calls, concatenated
        hidden = torch.relu(model[1](model[0](torch.cat(batches)))).detach()
        torch.testing.assert_close(rec["3"], hidden)
        assert all(not m._forward_pre_hooks for m in model.modules())  # hooks removed
    merged = regmean_merge_modules(models, inputs)
    params = [_params(m) for m in models]
    expected = simple_average(params)
    for layer in ("0", "3"):
        expected[f"{layer}.weight"] = regmean_merge([p[f"{layer}.weight"] for p in params],
                                                    [gram(rec[layer]) for rec in inputs])
    _assert_dicts_close(merged, expected, rtol=0.0, atol=0.0)
    # not the plain mean on the linear weights; the plain mean on LayerNorm and biases
    assert not torch.allclose(merged["0.weight"], simple_average(params)["0.weight"])
    for name in ("1.weight", "1.bias", "0.bias", "3.bias"):
        torch.testing.assert_close(merged[name], (params[0][name] + params[1][name]) / 2)


def test_linear_inputs_flattens_leading_dims_and_removes_hooks_on_error() -> None:
    layer = _fill(nn.Linear(4, 2), 0)
    x = _randn(2, 3, 4, seed=1)
    rec = linear_inputs(layer, lambda: layer(x))
    assert torch.equal(rec[""], x.reshape(6, 4))
    assert regmean_merge_modules([layer, layer], [rec, rec])["weight"].shape == (2, 4)

    def boom() -> None:
        layer(x)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        linear_inputs(layer, boom)
    assert not layer._forward_pre_hooks


# --- DARE ---------------------------------------------------------------------------------------

def test_dare_is_reproducible_rescaled_and_unbiased() -> None:
    tau = {"a": _randn(40, seed=0), "b": _randn(5, 2, seed=1)}
    p = 0.5
    first = dare(tau, p, torch.Generator().manual_seed(3))
    again = dare(tau, p, torch.Generator().manual_seed(3))
    other = dare(tau, p, torch.Generator().manual_seed(4))
    assert all(torch.equal(first[n], again[n]) for n in tau)
    assert not all(torch.equal(first[n], other[n]) for n in tau)
    for n, v in tau.items():  # every entry is dropped (0) or kept and rescaled
        kept = first[n] != 0
        assert torch.equal(first[n][kept], v[kept] / (1 - p))
        assert 0 < kept.sum() < v.numel()
    draws = [dare(tau, p, torch.Generator().manual_seed(s)) for s in range(2000)]
    for n, v in tau.items():
        mean = torch.stack([d[n] for d in draws]).mean(0)
        # per-entry std of the mean is |v| sqrt(p / (1 - p)) / sqrt(2000) ~ 0.022 |v|
        torch.testing.assert_close(mean, v, rtol=0.15, atol=0.02)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan")])
def test_dare_rejects_bad_drop_rates(rate: float) -> None:
    with pytest.raises(ValueError, match=r"drop_rate must be in \[0, 1\)"):
        dare({"a": torch.ones(3)}, rate, torch.Generator().manual_seed(0))


# --- diagonal Fisher ----------------------------------------------------------------------------

def test_diagonal_fisher_matches_hand_computation_for_linear_softmax() -> None:
    model = _fill(nn.Linear(3, 4), 0).train()
    x = _randn(3, 3, seed=1)
    fisher = diagonal_fisher(model, x, batch_size=2)  # two chunks
    assert model.training  # mode restored
    w, b, xs = (t.detach().double().numpy() for t in (model.weight, model.bias, x))
    exp_w, exp_b = np.zeros_like(w), np.zeros_like(b)
    for xi in xs:  # d log softmax(z)_y / dz = e_y - p, z = W x + b, y = argmax z
        z = w @ xi + b
        prob = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        dz = np.eye(4)[z.argmax()] - prob
        exp_w += np.outer(dz, xi) ** 2 / len(xs)
        exp_b += dz**2 / len(xs)
    np.testing.assert_allclose(fisher["weight"].numpy(), exp_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fisher["bias"].numpy(), exp_b, rtol=1e-5, atol=1e-7)


def test_diagonal_fisher_is_nonnegative_with_parameter_shapes() -> None:
    model = _mlp(0)
    x = _randn(10, 4, seed=2)
    fisher = diagonal_fisher(model, x, batch_size=3)
    assert list(fisher) == [n for n, _ in model.named_parameters()]
    for n, p in model.named_parameters():
        assert fisher[n].shape == p.shape and bool((fisher[n] >= 0).all()), n
    assert any(bool((f > 0).any()) for f in fisher.values())
    _assert_dicts_close(diagonal_fisher(model, x, batch_size=1), fisher, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="at least one example"):
        diagonal_fisher(model, x[:0])


# --- bad inputs ---------------------------------------------------------------------------------

_A = {"w": torch.zeros(2, 3), "b": torch.zeros(2)}
_MISSING = {"w": torch.zeros(2, 3)}
_SHAPE = {"w": torch.zeros(3, 3), "b": torch.zeros(2)}


@pytest.mark.parametrize(("call", "message"), [
    (lambda: simple_average([]), "sequence is empty"),
    (lambda: simple_average([_A, _MISSING]), r"different keys .*missing \['b'\]"),
    (lambda: simple_average([_A, _SHAPE]), r"models\[1\]\['w'\] has shape \(3, 3\)"),
    (lambda: task_arithmetic_merge([], []), "sequence is empty"),
    (lambda: task_arithmetic_merge([_A, _A], [1.0]), "1 coefficients for 2 task vectors"),
    (lambda: task_arithmetic_merge([_A, _SHAPE], [1.0, 1.0]), "has shape"),
    (lambda: fisher_merge([], []), "sequence is empty"),
    (lambda: fisher_merge([_A, _A], [_A]), "1 Fisher dicts for 2 models"),
    (lambda: fisher_merge([_A, _A], [_A, _MISSING]), r"fishers\[1\] has different keys"),
    (lambda: fisher_merge([_A], [{"w": -torch.ones(2, 3), "b": torch.ones(2)}]), "negative"),
    (lambda: regmean_merge([], []), "sequence is empty"),
    (lambda: regmean_merge([torch.zeros(2, 3)], []), "0 Gram matrices for 1 weights"),
    (lambda: regmean_merge([torch.zeros(2, 3), torch.zeros(2, 4)], [torch.eye(3)] * 2), r"weights\[1\] has shape"),
    (lambda: regmean_merge([torch.zeros(2, 3)], [torch.eye(4)]), r"grams\[0\] has shape"),
    (lambda: regmean_merge([torch.zeros(2, 3)], [gram(torch.tensor([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0]]))]), "singular"),
    (lambda: regmean_merge([torch.zeros(2, 3)], [torch.eye(3)], alpha=1.5), "alpha must be in"),
    (lambda: gram(torch.zeros(2, 3, 4)), r"pass a matrix \(N, in\)"),
    (lambda: regmean_merge_modules([_mlp(0), _mlp(1)], [{}]), "1 input records for 2 modules"),
    (lambda: regmean_merge_modules([_mlp(0)], [{}]), "no recorded inputs for linear layer '0'"),
    (lambda: regmean_merge_modules([_mlp(0), nn.Linear(4, 6)], [{}, {}]), "different keys"),
])
def test_bad_inputs_raise_one_line_value_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
