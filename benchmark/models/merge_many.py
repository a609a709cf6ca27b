"""Merging K models into one, in weight space: pure functions on parameter dicts and task vectors.

- :func:`simple_average`: the parameter-wise mean of K models, the uniform "model soup" (Wortsman
  et al. 2022, "Model soups: averaging weights of multiple fine-tuned models improves accuracy
  without increasing inference time", ICML).
- :func:`task_arithmetic_merge`: ``sum_k c_k tau_k`` of K task vectors (Ilharco et al. 2023,
  "Editing Models with Task Arithmetic", ICLR); add it to the pretrained model with
  :func:`benchmark.models.merging.add_vector`.
- TIES-merging of K task vectors is :func:`benchmark.models.merging.ties_merge`, which already
  takes a sequence of any length; nothing is added here.
- :func:`fisher_merge`: the per-parameter Fisher-weighted average ``sum_k F_k theta_k / sum_k F_k``
  (Matena & Raffel 2022, "Merging Models with Fisher-Weighted Averaging", NeurIPS), with the
  diagonal Fisher of a classifier from :func:`diagonal_fisher`.
- :func:`regmean_merge`: RegMean for one linear layer (Jin, Ren, Preotiuc-Pietro & Cheng 2023,
  "Dataless Knowledge Fusion by Merging Weights of Language Models", ICLR): with ``W_k`` of shape
  (out, in) (as ``nn.Linear.weight``) and Gram matrices ``G_k = X_k^T X_k`` of shape (in, in),
  ``W^T = (sum_k G~_k)^-1 sum_k G~_k W_k^T``, where ``G~_k = alpha G_k + (1 - alpha) diag(G_k)``.
  :func:`gram`, :func:`linear_inputs` (or :func:`linear_grams`, the Grams accumulated call by call)
  and :func:`regmean_merge_modules` apply it to whole modules.
- :func:`dare`: DARE (Yu, Yu, Yu, Huang & Li 2024, "Language Models are Super Mario: Absorbing
  Abilities from Homologous Models as a Free Lunch", ICML): drop each entry of a task vector with
  probability p and rescale the rest by 1 / (1 - p).

Parameter dicts map names to tensors of equal shapes across the K models; floating-point results
keep the inputs' dtype (float32 in the benchmark). Randomness comes only from an explicit
``torch.Generator``. Bad inputs raise ``ValueError`` with a one-line message naming the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from benchmark.models.merging import TaskVector

_SAME_ARCH = "merge models of the same architecture"


def _check_same(dicts: Sequence[Mapping[str, Tensor]], what: str,
                reference: tuple[Mapping[str, Tensor], str] | None = None) -> list[str]:
    """The names of ``dicts[0]`` if every dict has its keys and shapes (or those of ``reference``,
    a dict and its name), else ValueError; an empty ``dicts`` is an error too."""
    if len(dicts) == 0:
        raise ValueError(f"no {what} to merge: the sequence is empty; pass at least one")
    ref, ref_name = reference or (dicts[0], f"{what}[0]")
    names = list(ref)
    for k, d in enumerate(dicts):
        if set(d) != set(names):
            missing, extra = sorted(set(names) - set(d)), sorted(set(d) - set(names))
            raise ValueError(f"{what}[{k}] has different keys from {ref_name} (missing {missing[:3]}, "
                             f"extra {extra[:3]}); {_SAME_ARCH}")
        for n in names:
            if d[n].shape != ref[n].shape:
                raise ValueError(f"{what}[{k}][{n!r}] has shape {tuple(d[n].shape)} but {ref_name}[{n!r}] has "
                                 f"{tuple(ref[n].shape)}; {_SAME_ARCH}")
    return names


def differing_parameters(modules: Sequence[nn.Module]) -> list[str]:
    """The names of the parameters (in ``modules[0]``'s order) whose values are not equal in every
    one of the K same-architecture ``modules``: what fine-tuning changed somewhere. A merge need only
    touch these; the others are one shared value (e.g. frozen pretrained blocks), which a weighted
    average would only perturb by rounding."""
    params = [dict(m.named_parameters()) for m in modules]
    _check_same(params, "modules")
    return [n for n, p in params[0].items() if any(not torch.equal(p, q[n]) for q in params[1:])]


def simple_average(models: Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """The parameter-wise mean of K parameter (or state) dicts. Non-floating entries (e.g. a
    batch-norm step counter) cannot be averaged: they are copied from ``models[0]``."""
    names = _check_same(models, "models")
    out: dict[str, Tensor] = {}
    for n in names:
        first = models[0][n]
        if first.is_floating_point():
            out[n] = torch.stack([m[n].detach().to(first.dtype) for m in models]).mean(0)
        else:
            out[n] = first.detach().clone()
    return out


def task_arithmetic_merge(vectors: Sequence[TaskVector], coefficients: Sequence[float]) -> TaskVector:
    """``sum_k coefficients[k] * vectors[k]`` (one coefficient per task vector)."""
    names = _check_same(vectors, "vectors")
    if len(coefficients) != len(vectors):
        raise ValueError(f"{len(coefficients)} coefficients for {len(vectors)} task vectors; "
                         "give one coefficient per vector")
    return {n: sum((c * v[n] for c, v in zip(coefficients, vectors, strict=True)),
                   torch.zeros_like(vectors[0][n])) for n in names}


def fisher_merge(models: Sequence[Mapping[str, Tensor]], fishers: Sequence[Mapping[str, Tensor]],
                 eps: float = 1e-8) -> dict[str, Tensor]:
    """Per entry, ``sum_k F_k theta_k / sum_k F_k`` with ``fishers[k]`` the (diagonal) Fisher of
    ``models[k]`` (same keys and shapes). Where the total Fisher is at most ``eps`` the models carry
    no information to weigh them by, so the entry is their plain mean."""
    names = _check_same(models, "models")
    if len(fishers) != len(models):
        raise ValueError(f"{len(fishers)} Fisher dicts for {len(models)} models; give one Fisher per model")
    _check_same(fishers, "fishers", reference=(models[0], "models[0]"))
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    out: dict[str, Tensor] = {}
    for n in names:
        thetas = torch.stack([m[n].detach() for m in models])
        weights = torch.stack([f[n].detach().to(thetas.dtype) for f in fishers])
        if (weights < 0).any():
            raise ValueError(f"a Fisher for {n!r} has negative entries; a diagonal Fisher is a mean of squares (>= 0)")
        total = weights.sum(0)
        weighted = (weights * thetas).sum(0) / total.clamp(min=max(eps, torch.finfo(total.dtype).tiny))
        out[n] = torch.where(total > eps, weighted, thetas.mean(0))
    return out


def diagonal_fisher(model: nn.Module, features: Tensor, *, batch_size: int = 64) -> dict[str, Tensor]:
    """The empirical diagonal Fisher of a classifier ``model`` (a batch (N, ...) -> logits (N, C))
    on ``features``: per parameter, the mean over the N examples of the squared gradient of
    ``log p(y | x)`` at the model's own predicted label ``y = argmax`` (the "predicted labels"
    variant: no true labels and no sampling, so it is deterministic).

    Per-example gradients come from ``torch.func`` (``vmap`` over chunks of ``batch_size``); the
    model runs in eval mode (no dropout noise) and its mode is restored. Every parameter gets an
    entry, whether it requires grad or not; ``.grad`` fields are not touched."""
    if features.ndim < 1 or features.shape[0] == 0:
        raise ValueError(f"features has shape {tuple(features.shape)}; pass a batch of at least one example")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach() for n, b in model.named_buffers()}

    def log_likelihood(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        logits = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return F.log_softmax(logits, dim=-1)[0].gather(0, y.unsqueeze(0))[0]

    per_example_grad = vmap(grad(log_likelihood), in_dims=(None, 0, 0))
    sums = {n: torch.zeros_like(p) for n, p in params.items()}
    was_training = model.training
    model.eval()
    try:
        for start in range(0, features.shape[0], batch_size):
            chunk = features[start : start + batch_size]
            with torch.no_grad():
                logits = functional_call(model, (params, buffers), (chunk,))
            if logits.ndim != 2 or logits.shape[0] != chunk.shape[0]:
                raise ValueError(f"model returned shape {tuple(logits.shape)} for {chunk.shape[0]} examples; "
                                 "diagonal_fisher needs a classifier giving logits (N, C)")
            grads = per_example_grad(params, chunk, logits.argmax(-1))
            for n in sums:
                sums[n] += grads[n].square().sum(0)
    finally:
        model.train(was_training)
    return {n: s / features.shape[0] for n, s in sums.items()}


def gram(inputs: Tensor) -> Tensor:
    """``X^T X`` (in, in) of an input matrix ``X`` (N, in)."""
    if inputs.ndim != 2:
        raise ValueError(f"inputs has shape {tuple(inputs.shape)}; pass a matrix (N, in) (flatten leading dims)")
    return inputs.T @ inputs


def regmean_merge(weights: Sequence[Tensor], grams: Sequence[Tensor], alpha: float = 1.0) -> Tensor:
    """RegMean merge (out, in) of one linear layer's K weights (out, in) given each model's Gram
    matrix (in, in) of that layer's inputs. ``alpha`` < 1 shrinks the Grams' off-diagonal entries
    (the paper regularises this way, alpha around 0.9); 1 is the exact least-squares merge
    ``argmin_W sum_k ||X_k W^T - X_k W_k^T||^2``. An input column that is zero in every Gram (no
    model ever saw it non-zero) gets the plain mean of the weights' columns; any other singular
    total Gram is a ValueError."""
    if len(weights) == 0:
        raise ValueError("no weights to merge: the sequence is empty; pass at least one")
    if len(grams) != len(weights):
        raise ValueError(f"{len(grams)} Gram matrices for {len(weights)} weights; give one Gram per weight")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if weights[0].ndim != 2:
        raise ValueError(f"weights[0] has shape {tuple(weights[0].shape)}; pass linear weights (out, in)")
    out_f, in_f = weights[0].shape
    for k, (w, g) in enumerate(zip(weights, grams, strict=True)):
        if w.shape != (out_f, in_f):
            raise ValueError(f"weights[{k}] has shape {tuple(w.shape)}, expected (out, in) = "
                             f"{tuple(weights[0].shape)} for all; merge weights of the same linear layer")
        if g.shape != (in_f, in_f):
            raise ValueError(f"grams[{k}] has shape {tuple(g.shape)}, expected (in, in) = ({in_f}, {in_f}); "
                             "pass gram(inputs) of that layer's inputs")
    dtype = weights[0].dtype
    lhs = torch.zeros(in_f, in_f, dtype=dtype, device=weights[0].device)
    rhs = torch.zeros(in_f, out_f, dtype=dtype, device=weights[0].device)
    for w, g in zip(weights, grams, strict=True):
        g = g.detach().to(dtype)
        g = alpha * g + (1 - alpha) * torch.diag(torch.diagonal(g))
        lhs += g
        rhs += g @ w.detach().to(dtype).T
    # An input that is zero in every recorded row (e.g. a dead ReLU unit) has a zero row and column
    # in every Gram: its weight column never affects the outputs, so the system decouples; solve on
    # the live inputs and give the dead ones the plain mean (any value is a least-squares solution).
    merged_t = torch.stack([w.detach().to(dtype).T for w in weights]).mean(0)  # (in, out): W^T
    live = torch.diagonal(lhs) > 0
    if live.any():
        try:
            merged_t[live] = torch.linalg.solve(lhs[live][:, live], rhs[live])
        except torch.linalg.LinAlgError:
            raise ValueError("the summed Gram matrix is singular (too few or collinear inputs); record more "
                             "inputs or use alpha < 1") from None
    return merged_t.T.contiguous()


def _each_linear_input(module: nn.Module, run: Callable[[], object], visit: Callable[[str, Tensor], None]) -> None:
    """Call ``visit(name, rows)`` with each call's input (rows, in) to every ``nn.Linear`` of
    ``module`` during ``run()``; the hooks are removed afterwards, also when ``run`` raises."""
    handles = []

    def recorder(name: str, in_features: int) -> Callable[[nn.Module, tuple[Tensor, ...]], None]:
        def hook(_: nn.Module, args: tuple[Tensor, ...]) -> None:
            visit(name, args[0].detach().reshape(-1, in_features))
        return hook

    try:
        for name, sub in module.named_modules():
            if isinstance(sub, nn.Linear):
                handles.append(sub.register_forward_pre_hook(recorder(name, sub.in_features)))
        run()
    finally:
        for h in handles:
            h.remove()


def linear_inputs(module: nn.Module, run: Callable[[], object]) -> dict[str, Tensor]:
    """The inputs to every ``nn.Linear`` of ``module`` during ``run()``, by module name: each call's
    input flattened to (rows, in) and all calls concatenated. Layers not called are absent."""
    recorded: dict[str, list[Tensor]] = {}
    # clone: a later in-place op on the input must not change what was recorded
    _each_linear_input(module, run, lambda name, rows: recorded.setdefault(name, []).append(rows.clone()))
    return {name: torch.cat(xs) for name, xs in recorded.items()}


def linear_grams(module: nn.Module, run: Callable[[], object]) -> dict[str, Tensor]:
    """The Gram matrix ``X^T X`` (in, in) of the inputs to every ``nn.Linear`` of ``module`` during
    ``run()``, by module name: ``gram(linear_inputs(module, run)[name])``, accumulated call by call
    (float32) so the inputs themselves are never all held at once (a run over a whole training draw
    of a transformer would record N x T rows per layer). Layers not called are absent."""
    grams: dict[str, Tensor] = {}

    def add(name: str, rows: Tensor) -> None:
        g = gram(rows.float())
        grams[name] = g if name not in grams else grams[name] + g

    _each_linear_input(module, run, add)
    return grams


def regmean_merge_modules(modules: Sequence[nn.Module], inputs_per_module: Sequence[Mapping[str, Tensor]] | None,
                          alpha: float = 1.0, *,
                          grams_per_module: Sequence[Mapping[str, Tensor]] | None = None) -> dict[str, Tensor]:
    """The merged parameters (by name) of K same-architecture modules: RegMean
    (:func:`regmean_merge`) for the weight of every ``nn.Linear``, the plain mean for every other
    parameter, including the linear biases (as the paper's implementation does).
    ``inputs_per_module[k]`` maps each linear layer's name to model k's inputs to it (rows, in), as
    :func:`linear_inputs` records them; or, instead (``inputs_per_module=None``),
    ``grams_per_module[k]`` maps it to their Gram matrix, as :func:`linear_grams` accumulates it.
    Load the result with ``load_state_dict(..., strict=False)``."""
    if (inputs_per_module is None) == (grams_per_module is None):
        raise ValueError("give either inputs_per_module (from linear_inputs) or grams_per_module "
                         "(from linear_grams), not both or neither")
    records = inputs_per_module if inputs_per_module is not None else grams_per_module
    assert records is not None
    if len(records) != len(modules):
        raise ValueError(f"{len(records)} input records for {len(modules)} modules; "
                         "give one (from linear_inputs or linear_grams) per module")
    params = [{n: p.detach() for n, p in m.named_parameters()} for m in modules]
    merged = simple_average(params)
    for name, sub in modules[0].named_modules():
        if not isinstance(sub, nn.Linear):
            continue
        key = f"{name}.weight" if name else "weight"
        grams = []
        for k, inputs in enumerate(records):
            if name not in inputs:
                raise ValueError(f"no recorded inputs for linear layer {name!r} of module {k}; record them with "
                                 "linear_inputs (or linear_grams) on a run that calls every linear layer")
            grams.append(gram(inputs[name]) if inputs_per_module is not None else inputs[name])
        merged[key] = regmean_merge([p[key] for p in params], grams, alpha)
    return merged


def dare(vector: TaskVector, drop_rate: float, generator: torch.Generator) -> TaskVector:
    """DARE: zero each entry with probability ``drop_rate`` (independent Bernoulli draws from
    ``generator``, by parameter name in sorted order) and divide the kept ones by
    ``1 - drop_rate``, which keeps the vector's expectation. ``drop_rate`` 0 returns an equal copy."""
    if not 0 <= drop_rate < 1:
        raise ValueError(f"drop_rate must be in [0, 1), got {drop_rate}; pass a drop probability below 1")
    out: TaskVector = {}
    for n in sorted(vector):
        v = vector[n].detach()
        keep = torch.rand(v.shape, generator=generator, device=v.device) >= drop_rate
        out[n] = torch.where(keep, v / (1 - drop_rate), torch.zeros_like(v))
    return {n: out[n] for n in vector}
