"""The fusion-method API.

A method is one file in ``baselines/`` (or a third-party package's module listed under the
``benchmark.methods`` entry-point group) holding one dataclass::

    @register_method("my_method")
    @dataclass
    class MyMethod(Method):
        \"\"\"What it does. Reference: Author et al. (year).\"\"\"
        needs_source: ClassVar[bool] = True
        weight: float = 1.0          # hyperparameters: typed fields with defaults

        def fit(self, ctx: FitContext) -> Classifier:
            return ctx.fit(ctx.new_classifier(ctx.source_trunk()))

``__init__`` (the dataclass's) only stores hyperparameters; ``fit`` does the work and
returns a :class:`~benchmark.models.training.Classifier`. The context builds classifiers,
runs the shared training loop and counts the examples every helper processes. The harness,
not the method, predicts the target's test split: the context holds only training and
validation data.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from benchmark.errors import ConfigError, did_you_mean
from benchmark.models import merging, training
from benchmark.models.backbones import Backbone, States, StemInit
from benchmark.models.training import Classifier, ExtraLoss, LabeledStates, TrainConfig, TrainResult
from benchmark.registry import Registry

HYPERPARAMETER_TYPES = (bool, int, float, str)


@dataclass
class FitContext:
    """Everything a method may use. There is no test split here, by design.

    Attributes:
        backbone: the family's backbone (knows its blocks and feature width).
        config: the protocol's optimisation settings (shared by every method).
        num_labels: number of target classes C.
        train, validation: target stem states ``States`` with labels ``(N,)`` and ids.
        make_trunk: a fresh trainable trunk with pretrained (or, for ``stem_init="random"``
            methods, the run's random) weights; returns ``nn.Module`` mapping a batch to ``(B, D)``.
        source: the frozen source-tuned classifier (trunk + source head), for methods with
            ``needs_source``; trained once per (backbone, source task, seed) and shared. With
            K >= 2 sources (a fusion group) it is None: use ``sources``.
        sources: the source pool, the K frozen source-tuned classifiers in the order of the
            run's source set (task names sorted); ``(source,)`` for a pair. A method that takes
            K >= 2 sources (``max_sources``) reads this; a pairwise one may keep ``source``.
        generator: the run's seeded torch generator; all randomness comes from it.
        device: torch device string.
        source_train: the source task's training draw (the one its source model was tuned
            on) as stem states with source labels, for methods with ``needs_source_data``
            (e.g. joint multi-task training); None otherwise. ``source_num_labels``,
            ``source_feature_dim``: its number of classes and the trunk's feature width on
            its inputs (a sentence-pair task's differs from a single sentence's); 0 without a source.
            ``source_trains``, ``source_label_counts``, ``source_feature_dims``: the same per
            source of the pool, in its order (``source_train`` etc. are the single one when K = 1).
        reference: for methods with ``needs_reference_fit``, a trainable copy of the reference
            method's fit (``target_only``) on this run's target draw and seed, trained once and
            shared with that run (so a merging method does not train it again); None otherwise.
    """

    backbone: Backbone
    config: TrainConfig
    num_labels: int
    train: LabeledStates
    validation: LabeledStates
    make_trunk: Callable[[], nn.Module]
    source: Classifier | None
    generator: torch.Generator
    device: str = "cpu"
    source_train: LabeledStates | None = None
    source_num_labels: int = 0
    source_feature_dim: int = 0
    reference: Classifier | None = None
    examples_processed: int = 0
    training: list[dict[str, object]] = dataclasses.field(default_factory=list)
    sources: tuple[Classifier, ...] = ()
    source_trains: tuple[LabeledStates, ...] = ()
    source_label_counts: tuple[int, ...] = ()
    source_feature_dims: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # One source can be given either way (a pairwise caller sets source=..., the harness
        # the pool): fill in the other, so ``source`` and ``sources`` always agree when K = 1.
        for one, pool in (("source", "sources"), ("source_train", "source_trains")):
            single, many = getattr(self, one), getattr(self, pool)
            if single is not None and not many:
                setattr(self, pool, (single,))
            elif single is None and len(many) == 1:
                setattr(self, one, many[0])
            elif single is not None and (len(many) != 1 or many[0] is not single):
                raise ValueError(f"FitContext got {one} and a {pool} of {len(many)} that differ; give one of them")
        for count, counts in (("source_num_labels", "source_label_counts"),
                              ("source_feature_dim", "source_feature_dims")):
            if getattr(self, count) and not getattr(self, counts):
                setattr(self, counts, (getattr(self, count),))
            elif not getattr(self, count) and len(getattr(self, counts)) == 1:
                setattr(self, count, getattr(self, counts)[0])

    def new_classifier(self, trunk: nn.Module | None = None) -> Classifier:
        """``trunk`` (default: a fresh pretrained one, :attr:`make_trunk`) with a new linear head
        ``(B, D) -> (B, num_labels)``, ``D`` the backbone's feature width, its weights drawn from
        :attr:`generator` (so the same seed gives the same head)."""
        return Classifier(trunk if trunk is not None else self.make_trunk(),
                          training.new_head(self.backbone.feature_dim, self.num_labels, self.generator))

    def source_trunk(self) -> nn.Module:
        """A trainable copy of the source-tuned trunk (``ctx.source`` itself stays frozen)."""
        if self.source is None:
            raise ConfigError("ctx.source_trunk() needs the source model; declare "
                              "'needs_source: ClassVar[bool] = True' on the method")
        trunk = copy.deepcopy(self.source.trunk)
        trunk.requires_grad_(True)
        return trunk

    def fit(self, model: Classifier, *, extra_loss: ExtraLoss | None = None,
            extra_parameters: Sequence[nn.Parameter] = (), train: LabeledStates | None = None,
            validation: LabeledStates | None = None, config: TrainConfig | None = None,
            max_epochs: int | None = None, lr: float | None = None, desc: str = "train") -> Classifier:
        """Train ``model`` in place with the shared loop (:func:`~benchmark.models.training.fit`) on
        ``ctx.train`` (early stopping on ``ctx.validation``) with the protocol's ``config`` and
        the run's generator; record its history and examples; return ``model``.

        ``extra_loss(features (B, D), logits (B, C), idx (B,)) -> scalar`` is added to the
        cross-entropy; forward passes it makes through :meth:`batch_features` are counted there.
        ``train``, ``validation``, ``config``, ``max_epochs``, ``lr`` override the protocol's
        (e.g. a head trained on precomputed features)."""
        result = training.fit(
            model, self.train if train is None else train, self.validation if validation is None else validation,
            self.config if config is None else config, self.generator, extra_loss=extra_loss, device=self.device,
            max_epochs=max_epochs, lr=lr, extra_parameters=extra_parameters, desc=desc,
        )
        self.record(result)
        return model

    def features(self, trunk: nn.Module, data: LabeledStates) -> torch.Tensor:
        """``trunk``'s outputs ``(N, D)`` float32 (on the CPU) for the N examples of ``data``, in
        eval mode without gradients (e.g. a frozen teacher's features); counted as N examples."""
        out = training.pooled_features(trunk, data.states, self.config, self.device)
        self.examples_processed += len(data)
        return out

    def batch_features(self, module: nn.Module, states: States, idx: torch.Tensor) -> torch.Tensor:
        """``module`` (in its current mode, with gradients) on examples ``idx`` ``(B,)`` of
        ``states``: ``(B, D)`` float32 on the device, e.g. a second task's batch inside an
        ``extra_loss``; counted as B examples."""
        self.examples_processed += len(idx)
        return training.batch_features(module, states, idx, self.config, self.device)

    def select_scale(self, model: Classifier, base: nn.Module, vector: merging.TaskVector,
                     scales: Sequence[float]) -> float:
        """Set ``model.trunk`` to ``base + s * vector`` for the ``s`` in ``scales`` with the best
        ``ctx.validation`` accuracy (the first on ties); record every scale's accuracy and count
        one validation pass per scale. Returns the chosen ``s``."""
        chosen, accuracies = merging.select_scale(model, base, vector, scales, self.validation, self.config,
                                                  self.device)
        self.examples_processed += len(scales) * len(self.validation)
        self.training.append({"merge_scales": list(scales), "merge_val_accuracy": accuracies,
                              "merge_scale": chosen})
        return chosen

    def select_merge(self, model: Classifier, merged: Callable[[float], Mapping[str, torch.Tensor]],
                     grid: Sequence[float], coefficient: str) -> float:
        """For each ``c`` in ``grid``, load ``merged(c)`` (trunk parameters by name; the others stay)
        into ``model.trunk`` and measure ``ctx.validation`` accuracy; keep the ``c`` with the best
        (the first on ties). Record every candidate's accuracy as :meth:`select_scale` does, with
        ``coefficient`` naming what ``c`` is, and count one validation pass per candidate. Returns
        the chosen ``c``; the caller may add to the record (``ctx.training[-1]``)."""
        params = dict(model.trunk.named_parameters())
        accuracies: list[float] = []
        best: tuple[float, Mapping[str, torch.Tensor]] | None = None
        for c in grid:
            candidate = merged(c)
            with torch.no_grad():
                for name, value in candidate.items():
                    params[name].copy_(value)
            accuracies.append(training.accuracy_of(model, self.validation, self.config, self.device))
            if best is None or accuracies[-1] > max(accuracies[:-1]):
                best = (c, candidate)
        assert best is not None
        with torch.no_grad():
            for name, value in best[1].items():
                params[name].copy_(value)
        self.examples_processed += len(grid) * len(self.validation)
        self.training.append({"merge_coefficient": coefficient, "merge_scales": list(grid),
                              "merge_val_accuracy": accuracies, "merge_scale": best[0]})
        return best[0]

    def record(self, result: TrainResult, extra_examples: int = 0) -> None:
        """Report a training loop's history and work (stored in the run's ``run.json``).

        :meth:`fit` calls this itself; a method that calls ``training.fit`` directly records
        here, with ``extra_examples`` counting its forward passes outside that loop that no
        helper above counted (e.g. a teacher's features computed by hand)."""
        self.examples_processed += result.examples_processed + extra_examples
        self.training.append({"val_accuracy": result.val_accuracy, "train_loss": result.losses,
                              "best_epoch": result.best_epoch})


class Method(ABC):
    """Base of every fusion method (a dataclass whose fields are its hyperparameters)."""

    #: Whether ``fit`` needs the source-tuned model (fusion methods) or not (references).
    needs_source: ClassVar[bool] = False
    #: Whether ``fit`` needs the source task's training data (``ctx.source_train``).
    needs_source_data: ClassVar[bool] = False
    #: Whether ``fit`` starts from the reference method's fit on the target (``ctx.reference``).
    needs_reference_fit: ClassVar[bool] = False
    #: Stem weights the harness encodes the data with: "pretrained", or "random" (scratch).
    stem_init: ClassVar[StemInit] = "pretrained"
    #: How many source tasks ``fit`` takes at once (``ctx.sources``): 1 (pairs only), K >= 2
    #: (pairs and fusion groups of up to K sources) or 0 (any number). Pairwise is the default,
    #: so a method written for one source is never handed several.
    max_sources: ClassVar[int] = 1

    @abstractmethod
    def fit(self, ctx: FitContext) -> Classifier:
        """Train on ``ctx.train`` (select on ``ctx.validation``) and return the model."""

    @classmethod
    def uses_source(cls) -> str:
        """What of the source task ``fit`` uses: "model", "data", "model+data" or "none"."""
        parts = [part for part, used in (("model", cls.needs_source), ("data", cls.needs_source_data)) if used]
        return "+".join(parts) or "none"

    @classmethod
    def is_fusion(cls) -> bool:
        """Whether the method uses a source task (runs per pair) or not (a reference)."""
        return cls.needs_source or cls.needs_source_data

    @classmethod
    def takes_sources(cls, k: int) -> bool:
        """Whether ``fit`` takes a source set of ``k`` tasks (a fusion method with room for them)."""
        return cls.is_fusion() and (cls.max_sources == 0 or k <= cls.max_sources)

    def hyperparameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}


METHODS: Registry[type[Method]] = Registry("method", package="benchmark.baselines",
                                           entry_point_group="benchmark.methods")


def register_method(name: str) -> Callable[[type[Method]], type[Method]]:
    """Class decorator registering a :class:`Method` dataclass under ``name``."""

    def decorator(cls: type[Method]) -> type[Method]:
        problems = hyperparameter_problems(cls)
        if problems:
            raise ConfigError(f"method {name!r}: {problems[0]}")
        return METHODS.register(name)(cls)

    return decorator


def hyperparameter_problems(cls: type) -> list[str]:
    """Why ``cls`` is not a valid method class (empty when it is)."""
    problems: list[str] = []
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        return [f"{cls!r} does not subclass benchmark.models.method.Method"]
    if not dataclasses.is_dataclass(cls):
        return [f"{cls.__name__} must be a @dataclass so its hyperparameters are typed fields"]
    if not isinstance(cls.max_sources, int) or isinstance(cls.max_sources, bool) or cls.max_sources < 0:
        problems.append(f"max_sources = {cls.max_sources!r}; use 1 (pairs only), K >= 2 or 0 (any number)")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints.get(f.name)
        if kind not in HYPERPARAMETER_TYPES:
            problems.append(
                f"hyperparameter {f.name!r} has type {kind!r}; use bool, int, float or str"
            )
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"hyperparameter {f.name!r} has no default; give it one")
    field_names = {f.name for f in dataclasses.fields(cls)}
    for klass in cls.__mro__:
        if klass in (Method, object, ABC):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_") or attr in field_names or attr in hints:
                continue
            if callable(value) or isinstance(value, classmethod | staticmethod | property):
                continue
            problems.append(
                f"class attribute {attr!r} = {value!r} has no type annotation; declare it as a "
                f"typed field (e.g. '{attr}: {type(value).__name__} = {value!r}') or a ClassVar"
            )
    return problems


def method_names() -> list[str]:
    return METHODS.names()


def make_method(name: str, overrides: Mapping[str, object] | None = None) -> Method:
    """Instantiate method ``name`` with hyperparameter overrides (strings are parsed by type)."""
    cls = METHODS.get(name)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise ConfigError(
                f"method {name!r} has no hyperparameter {key!r}.{did_you_mean(key, fields)} "
                f"Known: {', '.join(fields) or '(none)'}."
            )
        kwargs[key] = _coerce(name, key, value, hints[key])
    return cls(**kwargs)


def _coerce(method: str, key: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value)
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        return kind(text)
    except ValueError:
        raise ConfigError(
            f"hyperparameter {method}.{key} must be {kind.__name__}, got {value!r}."
        ) from None


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """``["distill.weight=2", ...]`` -> ``{"distill": {"weight": "2"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--hp {item!r} is not METHOD.NAME=VALUE (e.g. --hp distill.weight=2).")
        lhs, value = item.split("=", 1)
        method, key = lhs.split(".", 1)
        METHODS.get(method)
        out.setdefault(method, {})[key] = value
    return out


def method_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name in method_names():
        cls = METHODS.get(name)
        hps = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        doc = inspect.getdoc(cls) or ""
        rows.append({"name": name, "uses_source": cls.uses_source(),
                     "hyperparameters": hps or "-", "summary": doc.splitlines()[0] if doc else ""})
    return rows
