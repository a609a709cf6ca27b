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

import dataclasses
import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from benchmark.errors import ConfigError, did_you_mean
from benchmark.models.backbones import StemInit
from benchmark.models.context import FitContext
from benchmark.models.training import Classifier
from benchmark.registry import Registry

HYPERPARAMETER_TYPES = (bool, int, float, str)


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
    #: Whether ``fit`` can merge a merge-all group: one model from the K task models of
    #: ``ctx.sources``, the same whichever task the run evaluates (``ctx.merge_all``).
    merges_all: ClassVar[bool] = False

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

    @classmethod
    def takes_merge_all(cls, k: int) -> bool:
        """Whether ``fit`` merges a merge-all group of ``k`` tasks."""
        return cls.merges_all and cls.needs_reference_fit and cls.takes_sources(k)

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
