"""Suites: which tasks and transfer pairs run, with which backbone, protocol and seeds.

Suites are YAML files (:mod:`benchmark.runs.suite_yaml` reads one,
:mod:`benchmark.runs.suite_catalog` finds them); these are the objects they become.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmark.data.task import Task
from benchmark.models.backbones import InputSettings, PairEncoding
from benchmark.models.training import TrainConfig
from benchmark.runs.groups import Group
from benchmark.runs.roles import Roles


@dataclass(frozen=True)
class Protocol:
    """How one input family is trained: what trains, the budget, the optimiser settings.

    ``trainable`` is ``head`` (linear head only), ``top-k`` (the top k blocks and the
    head; lower blocks frozen and cached) or ``all``. Budgets cap each split of the target
    (train/validation drawn per seed, test fixed) and the source's train/validation;
    ``train_budgets`` is the low-data axis: every target runs at each of them.
    ``tokens``, ``pair_tokens`` and ``pair_encoding`` say how text is fed to the backbone
    (:class:`~benchmark.models.backbones.InputSettings`; None: the backbone's defaults).
    ``precision`` is ``auto | bf16 | fp32`` as written; :meth:`with_precision` resolves it
    (``auto``: bf16 only where the device runs it natively) before any run is keyed.
    """

    backbone: str
    trainable: str = "top-1"
    train_budgets: tuple[int, ...] = (1000,)
    validation_budget: int | None = 300
    test_budget: int | None = 1000
    source_train_budget: int | None = 1000
    train: TrainConfig = field(default_factory=TrainConfig)
    tokens: int | None = None
    pair_tokens: int | None = None
    pair_encoding: PairEncoding = "siamese"
    precision: str = "auto"

    def inputs(self) -> InputSettings:
        return InputSettings(self.tokens, self.pair_tokens, self.pair_encoding)

    def with_precision(self, requested: str | None, device: str) -> Protocol:
        """This protocol at a concrete precision: ``requested`` (e.g. ``--precision``) or its own,
        resolved for ``device``; the training settings' bf16 flag follows it."""
        from benchmark.models.precision import resolve_precision

        chosen = resolve_precision(requested or self.precision, device)
        return dataclasses.replace(self, precision=chosen, train=dataclasses.replace(self.train, bf16=chosen == "bf16"))

    def to_dict(self) -> dict[str, object]:
        """What a run's numbers depend on: every field but the list of target budgets (a run
        records its own budget, so adding a budget to a suite reruns nothing)."""
        out = dataclasses.asdict(self)
        del out["train_budgets"]
        return out


@dataclass(frozen=True)
class Suite:
    """Tasks, their source→target pairs (explicit, or every same-family pair), fusion groups,
    controls, protocols (with the target budgets) and seeds."""

    name: str
    description: str
    tasks: tuple[str, ...]
    protocols: dict[str, Protocol]
    seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[str, ...] | None = None  # None: every registered method
    #: The methods run on groups (those of them that take the group's K sources); None: ``methods``.
    group_methods: tuple[str, ...] | None = None
    explicit_pairs: tuple[tuple[str, str], ...] | None = None  # None: every same-family pair
    groups: tuple[Group, ...] = ()  # fusion groups (runs/groups.py), beside the pairs
    controls: dict[str, tuple[str, ...]] = field(default_factory=dict)  # target -> control kinds run into it
    control_budgets: tuple[int, ...] | None = None  # target budgets the controls run at; None: all
    #: Target budgets the many -> one groups (and their leave-one-out sets) run at; None: all.
    group_budgets: tuple[int, ...] | None = None
    max_seeds: int | None = None  # run adds seeds to undecided pairs up to this (run --until-decided)
    roles: Roles = field(default_factory=Roles)  # the reference and the judge (runs/roles.py)
    file: str = ""  # the suite file it was read from
    content_hash: str = ""  # of that file, recorded in every run.json
    #: The suite's own tasks, resolved when it was read: YAML task files and controls (held
    #: here, never registered globally) and registered tasks; others resolve by name.
    resolved: Mapping[str, Task] = field(default_factory=dict, compare=False, repr=False)

    def task(self, name: str) -> Task:
        """The task ``name`` as this suite defines it."""
        if name in self.resolved:
            return self.resolved[name]
        from benchmark.data.task import get_task

        return get_task(name)

    def with_precision(self, requested: str | None = None, device: str = "cpu") -> Suite:
        """This suite with every protocol's precision resolved (see :meth:`Protocol.with_precision`)."""
        return dataclasses.replace(self, protocols={family: p.with_precision(requested, device)
                                                    for family, p in self.protocols.items()})

    def precisions(self) -> dict[str, str]:
        """family -> precision of each protocol (resolved once :meth:`with_precision` ran)."""
        return {family: p.precision for family, p in self.protocols.items()}

    def budgets(self, task: str) -> tuple[int, ...]:
        """The target train budgets ``task`` runs at (its family's protocol's)."""
        return self.protocols[self.family_of(task)].train_budgets

    def runs_control_at(self, budget: int) -> bool:
        return self.control_budgets is None or budget in self.control_budgets

    def runs_groups_at(self, budget: int) -> bool:
        return self.group_budgets is None or budget in self.group_budgets

    def run_budgets(self, task: str) -> tuple[int, ...]:
        """The target budgets ``task`` runs at: its protocol's train budgets, plus, for a task of a
        merge-all group, the source budget (its expert's draw, where the merges are evaluated; if
        it is not a train budget only the per-target methods and the merges run there). A task
        only merge-all groups evaluate runs at the source budget alone."""
        source = self.protocols[self.family_of(task)].source_train_budget
        if source is None or not self.merge_groups_of(task):
            return self.budgets(task)
        if self.merge_only(task):
            return (source,)
        return self.budgets(task) + (() if source in self.budgets(task) else (source,))

    def pair_budget(self, task: str, budget: int) -> bool:
        """Whether pairs, groups and controls run into ``task`` at ``budget`` (not only its merges)."""
        return budget in self.budgets(task) and not self.merge_only(task)

    def merge_only(self, task: str) -> bool:
        """Whether ``task`` is evaluated only as a member of merge-all groups: no pair and no
        many -> one group has it as target, so it needs its expert, its per-target rows at the
        source budget and the merges, not controls or other budgets."""
        if self.explicit_pairs is None:
            return False
        pair_targets = {t for _, t in self.explicit_pairs} | {g.target for g in self.groups if g.target is not None}
        return task not in pair_targets and any(g.kind == "merge-all" and task in g.tasks for g in self.groups)

    def pair_targets(self) -> tuple[str, ...]:
        """The targets pairs, many -> one groups and controls go into (:meth:`targets` less the merge-only ones)."""
        return tuple(t for t in self.targets() if not self.merge_only(t))

    def family_of(self, task: str) -> str:
        return self.task(task).family

    def targets(self) -> tuple[str, ...]:
        """The tasks evaluated: every task but those explicit pairs and many -> one groups use
        only as a source (a merge-all group evaluates each of its tasks)."""
        if self.explicit_pairs is None:
            return self.tasks
        targets = {t for _, t in self.explicit_pairs} | {t for g in self.groups for t in g.tasks
                                                         if g.kind == "merge-all" or t == g.target}
        sources = {s for s, _ in self.explicit_pairs} | {s for g in self.groups for s in g.sources}
        return tuple(t for t in self.tasks if t not in sources - targets)

    def merge_groups_of(self, task: str) -> list[Group]:
        """The merge-all groups holding ``task``, in the suite's order."""
        return [g for g in self.groups if g.kind == "merge-all" and task in g.sources]

    def groups_into(self, target: str) -> list[Group]:
        """The many -> one groups fusing their sources into ``target``, in the suite's order."""
        return [g for g in self.groups if g.kind == "many-to-one" and g.target == target]

    def pairs(self) -> list[tuple[str, str]]:
        """The suite's (source, target) pairs: its explicit list, or every ordered pair of
        distinct tasks in the same input family; then each target's controls."""
        from benchmark.data.controls import control_name

        if self.explicit_pairs is not None:
            pairs = list(self.explicit_pairs)
        else:
            fam = {t: self.family_of(t) for t in self.tasks}
            pairs = [(s, t) for t in self.tasks for s in self.tasks if s != t and fam[s] == fam[t]]
        return pairs + [(control_name(t, k), t) for t in self.pair_targets() for k in self.controls.get(t, ())]
