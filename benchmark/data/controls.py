"""Control sources: pseudo-source tasks derived from a target, with a known expected effect.

- ``more`` (positive control): a slice of the target's own training split, disjoint from
  the target's training draws in the suite: more of the same task. A sound transfer
  method must turn it into a gain when the target's own budget is small.
- ``shuffled`` (negative control): the same slice with its labels permuted (Wang et al.
  2019 corrupt the source to induce negative transfer); what a source model learns from it
  is noise, so sequential fine-tuning from it should lose.

The control of target ``T`` is the task ``T~more`` / ``T~shuffled``; it runs as a source
through the ordinary pipeline (a source model per seed, every fusion method). Its
validation split is the target's own validation draw (labels permuted for ``shuffled``),
so a control never touches the target's test split.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets
import numpy as np

from benchmark.data.task import Budget, Task, column
from benchmark.errors import ConfigError, DataError, did_you_mean

SEPARATOR = "~"
#: control kind -> the direction its gain is expected to take
CONTROLS: dict[str, str] = {"more": "positive", "shuffled": "negative"}


def control_name(target: str, kind: str) -> str:
    return f"{target}{SEPARATOR}{kind}"


def parse_control(name: str) -> tuple[str, str] | None:
    """``("T", kind)`` for a control task's name, None for any other task."""
    target, sep, kind = name.rpartition(SEPARATOR)
    return (target, kind) if sep and target and kind in CONTROLS else None


def is_control(name: str) -> bool:
    return parse_control(name) is not None


def expected_direction(source: str) -> str:
    """``positive`` / ``negative`` for a control source, ``""`` for a real one."""
    parsed = parse_control(source)
    return CONTROLS[parsed[1]] if parsed else ""


def check_control_kinds(kinds: Sequence[str]) -> None:
    for kind in kinds:
        if kind not in CONTROLS:
            raise ConfigError(f"unknown control {kind!r}.{did_you_mean(str(kind), CONTROLS)} "
                              f"Known: {', '.join(CONTROLS)}.")


@dataclass
class ControlTask(Task):
    """A control source of task ``target`` (see the module docstring). ``target_budgets``:
    the target's train budgets the control runs at, whose draws its slice avoids."""

    target: str = ""
    control: str = "more"
    target_budgets: tuple[int, ...] = ()
    base: Task | None = field(default=None, repr=False, compare=False)  # the target task itself

    def _base(self) -> Task:
        if self.base is None:
            raise ConfigError(f"control {self.name!r} was made without its target task; use control_tasks()")
        return self.base

    def load_full(self) -> datasets.DatasetDict:
        return self._base().load_full()

    def load(self, seed: int = 0, budget: Budget | None = None) -> datasets.DatasetDict:
        base = self._base()
        budget = budget or Budget()
        train = base.load_full()["train"]
        # Draws are nested, so the largest one holds every smaller draw of this seed.
        largest = max(self.target_budgets, default=0)
        taken = column(base.load(seed, Budget(largest, 0, 0))["train"], "id").astype(str)
        pool = np.flatnonzero(~np.isin(column(train, "id").astype(str), taken))
        n = len(pool) if budget.train is None else min(budget.train, len(pool))
        if n < 2 * self.num_labels:
            raise DataError(
                f"control {self.name!r}: only {len(pool)} training examples of {self.target!r} are left "
                f"beside its train budget ({largest}); lower the budget or drop the control.")
        # One slice per (target, seed) whatever the kind: ``shuffled`` is ``more`` with noise labels.
        rng = np.random.default_rng([seed, 0xC0])
        held = base.load(seed, Budget(0, budget.validation, 0))  # the target's validation draw, no test
        out = {"train": train.select(np.sort(rng.choice(pool, size=n, replace=False)).tolist()),
               "validation": held["validation"], "test": held["test"]}
        if self.control == "shuffled":
            label_rng = np.random.default_rng([seed, 0xC1])
            out = {split: _permute_labels(ds, label_rng) if len(ds) else ds for split, ds in out.items()}
        return datasets.DatasetDict(out)


def _permute_labels(ds: datasets.Dataset, rng: np.random.Generator) -> datasets.Dataset:
    feature = ds.features["label"]
    labels = rng.permutation(np.array(column(ds, "label")))  # a copy: arrow-backed columns are read-only
    flat = ds.flatten_indices(keep_in_memory=True)  # add_column needs the rows materialised
    return flat.remove_columns("label").add_column("label", labels.tolist(), feature=feature)


def control_tasks(base: Task, kinds: Sequence[str], target_budgets: Sequence[int]) -> list[ControlTask]:
    """The controls ``kinds`` of the target task ``base``, whose slices avoid the target's
    draws at ``target_budgets`` (the budgets they run at). Registers nothing: a suite holds them."""
    check_control_kinds(kinds)
    copied = {f.name: getattr(base, f.name) for f in dataclasses.fields(Task) if f.init and not f.name.startswith("_")}
    return [ControlTask(**{**copied, "name": control_name(base.name, kind),
                           "description": f"{CONTROLS[kind]} control of {base.name}: {kind}"},
                        target=base.name, control=kind, target_budgets=tuple(target_budgets), base=base)
            for kind in kinds]
