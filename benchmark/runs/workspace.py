"""The workspace: the data, stem states and source models that the runs of a suite share.

Each target is resolved once into a :class:`ResolvedTask` (task, its family's protocol,
backbone and frozen depth); everything below is looked up through it. Stem states are
cached on disk by content and in memory for the process; source-tuned models are trained
once per (backbone, protocol, source, seed) and cached on disk.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import datasets
import torch

from benchmark import paths
from benchmark.data.task import Budget, Task, get_task
from benchmark.errors import ConfigError
from benchmark.faults import fault_point
from benchmark.models.backbones import Backbone, FeatureCache, StemInit, get_backbone, parse_trainable
from benchmark.models.method import METHODS, FitContext, Method, make_method
from benchmark.models.training import Classifier, LabeledStates, freeze
from benchmark.runs.keys import content_hash, data_fingerprint, method_code_version
from benchmark.runs.store import REFERENCE_METHOD, RunId
from benchmark.runs.suites import Protocol, Suite

log = logging.getLogger(__name__)

Role = Literal["target", "source"]


@dataclass(frozen=True)
class ResolvedTask:
    """A task as a suite runs it: the task, its family's protocol, the backbone and how many
    of the backbone's blocks are frozen (their outputs are the cached stem states)."""

    task: Task
    protocol: Protocol
    backbone: Backbone
    n_frozen: int

    @property
    def name(self) -> str:
        return self.task.name


class TrunkFactory:
    """Builds fresh trunks for a method. Holds no reference to the workspace or its data, so
    a method cannot reach the test split through it."""

    def __init__(self, backbone: Backbone, n_frozen: int, init: StemInit, seed: int,
                 pretrained: torch.nn.Module | None):
        self._backbone, self._n_frozen, self._init, self._seed = backbone, n_frozen, init, seed
        self._pretrained = pretrained

    def __call__(self) -> torch.nn.Module:
        if self._pretrained is not None:
            model = copy.deepcopy(self._pretrained)
        else:  # the same random network whose lower blocks produced the cached stem states
            model = self._backbone.build("random", torch.Generator().manual_seed(self._seed))
        return self._backbone.trunk(model, self._n_frozen)


class Workspace:
    """Shared, cached inputs of a suite's runs in one process."""

    def __init__(self, suite: Suite, device: str = "cpu", cache_dir: Path | None = None):
        self.suite = suite
        self.device = device
        self.cache_dir = cache_dir
        root = cache_dir or paths.cache_dir()
        self.cache = FeatureCache(root / "features")
        self.model_dir = root / "source_models"
        self._resolved: dict[str, ResolvedTask] = {}
        self._data: dict[tuple[str, int, Role, int | None], datasets.DatasetDict] = {}
        self._fingerprints: dict[tuple[str, int, Role, int | None], str] = {}
        self._states: dict[tuple[Any, ...], LabeledStates] = {}
        self._sources: dict[tuple[str, int], Classifier] = {}
        self._pretrained: dict[str, torch.nn.Module] = {}

    def resolve(self, task_name: str) -> ResolvedTask:
        """Task, protocol, backbone and frozen depth of ``task_name`` in this suite (computed once)."""
        if task_name not in self._resolved:
            task = get_task(task_name)
            try:
                protocol = self.suite.protocols[task.family]
            except KeyError:
                raise ConfigError(f"suite {self.suite.name!r} has no protocol for {task.family} tasks; "
                                  f"add one or drop task {task_name!r}.") from None
            # The view of the backbone for this task kind: token budget, pair encoding, width.
            backbone = get_backbone(protocol.backbone).for_task(task.kind, protocol.inputs())
            self._resolved[task_name] = ResolvedTask(task, protocol, backbone,
                                                     parse_trainable(protocol.trainable, backbone))
        return self._resolved[task_name]

    def data(self, task_name: str, seed: int, role: Role, budget: int | None = None) -> datasets.DatasetDict:
        """The task's subsample for ``seed``: a target's with train ``budget`` examples, a
        source's with the protocol's source budget (``budget`` must be None)."""
        if (role == "target") != (budget is not None):
            raise ValueError(f"a {role} draw takes {'a' if role == 'target' else 'no'} train budget")
        key = (task_name, seed, role, budget)
        if key not in self._data:
            rt = self.resolve(task_name)
            p = rt.protocol
            train = budget if role == "target" else p.source_train_budget
            self._data[key] = rt.task.load(seed=seed, budget=Budget(train, p.validation_budget, p.test_budget))
        return self._data[key]

    def fingerprint(self, task_name: str, seed: int, role: Role, budget: int | None = None) -> str:
        """:func:`~benchmark.runs.keys.data_fingerprint` of :meth:`data`, computed once."""
        key = (task_name, seed, role, budget)
        if key not in self._fingerprints:
            self._fingerprints[key] = data_fingerprint(self.data(task_name, seed, role, budget))
        return self._fingerprints[key]

    def states(self, task_name: str, seed: int, role: Role, split: str, init: StemInit,
               budget: int | None = None) -> LabeledStates:
        """Stem states of a split, with labels and ids (cached on disk by content, and in memory)."""
        # The test split is the same for every seed, validation for every budget (nested
        # draws); a random stem differs per seed.
        key = (task_name, seed if split != "test" else None, role, split, init,
               seed if init == "random" else None, budget if split == "train" else None)
        if key not in self._states:
            rt = self.resolve(task_name)
            ds = self.data(task_name, seed, role, budget)[split]
            st = rt.backbone.encode(ds.remove_columns("label"), rt.n_frozen, init, seed, self.cache,
                                    device=self.device, bf16=rt.protocol.train.bf16)
            self._states[key] = LabeledStates(st, torch.tensor(ds["label"], dtype=torch.long),
                                              [str(i) for i in ds["id"]])
        return self._states[key]

    def trunk_factory(self, rt: ResolvedTask, init: StemInit, seed: int) -> TrunkFactory:
        pretrained = None
        if init == "pretrained":
            if rt.backbone.name not in self._pretrained:
                self._pretrained[rt.backbone.name] = rt.backbone.build("pretrained", None)
            pretrained = self._pretrained[rt.backbone.name]
        return TrunkFactory(rt.backbone, rt.n_frozen, init, seed, pretrained)

    def source_model(self, source: str, seed: int) -> Classifier:
        """The frozen source-tuned classifier for (backbone, source task, seed): trained once, cached.

        The recipe is the reference method's fit on the source's draw, so a ``target_only``
        run on that same draw is this model (:meth:`is_source_fit`)."""
        if (source, seed) not in self._sources:
            path = self._source_path(source, seed)
            model = self._load_source(path, source, seed) if path.exists() else None
            if model is None:
                model, history = self._train_source(source, seed)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")  # own name: workers may race
                torch.save(model.state_dict(), tmp)
                record = path.with_suffix(".json")
                tmp_record = record.with_suffix(f".{os.getpid()}.tmp.json")
                tmp_record.write_text(json.dumps(history))
                tmp_record.replace(record)  # the record first: a model file always has one
                fault_point("source_model.before_replace")
                tmp.replace(path)
            self._sources[(source, seed)] = freeze(model)
        return self._sources[(source, seed)]

    def _load_source(self, path: Path, source: str, seed: int) -> Classifier | None:
        """The cached source model, or None (with a warning) when its file is unreadable."""
        model = self._source_skeleton(source, seed)
        try:
            model.load_state_dict(torch.load(path, weights_only=True))
        except Exception as exc:  # a torn or foreign file is retrained, never used
            log.warning("retraining source model %s: unreadable cache file (%s)", path.name, str(exc)[:200])
            return None
        return model

    def source_fit_record(self, source: str, seed: int) -> dict[str, Any]:
        """What training the source model for (source, seed) cost and measured: its file name,
        ``fit_seconds``, ``examples_processed`` and ``training`` history (run.json's fields)."""
        path = self._source_path(source, seed)
        record = path.with_suffix(".json")
        history = json.loads(record.read_text()) if record.exists() else {}
        return {"source_model": path.name, **history}

    def is_source_fit(self, run: RunId, method: Method) -> bool:
        """Whether ``run`` is the fit that trains the source model of (run.target, run.seed):
        the reference method, its default hyperparameters, and a target draw equal to the
        source draw (the budget is the protocol's source budget)."""
        if run.method != REFERENCE_METHOD or run.source_task:
            return False
        if method.hyperparameters() != make_method(REFERENCE_METHOD).hyperparameters():
            return False
        return self.fingerprint(run.target, run.seed, "target", run.budget) == \
            self.fingerprint(run.target, run.seed, "source")

    def _source_path(self, source: str, seed: int) -> Path:
        rt = self.resolve(source)
        recipe = method_code_version(METHODS.get(REFERENCE_METHOD))
        key = content_hash({"backbone": rt.backbone.identity(), "protocol": rt.protocol.to_dict(),
                            "task": source, "data": self.fingerprint(source, seed, "source"),
                            "seed": seed, "recipe": recipe})  # the recipe's version covers all its code
        return self.model_dir / f"{source}-seed{seed}-{key}.pt"

    def adopt_source_model(self, source: str, seed: int, state: Mapping[str, torch.Tensor]) -> None:
        """Use ``state`` (the weights of :meth:`source_model` computed elsewhere, e.g. by another
        worker) as the source model for (source, seed) in this workspace."""
        model = self._source_skeleton(source, seed)
        model.load_state_dict(state)
        self._sources[(source, seed)] = freeze(model)

    def _source_skeleton(self, source: str, seed: int) -> Classifier:
        rt = self.resolve(source)
        return Classifier(self.trunk_factory(rt, "pretrained", seed)(),
                          torch.nn.Linear(rt.backbone.feature_dim, rt.task.num_labels))

    def _train_source(self, source: str, seed: int) -> tuple[Classifier, dict[str, Any]]:
        """Source recipe: the reference method on the source's draw. Returns the model and what
        training it cost (seconds, examples, history)."""
        rt = self.resolve(source)
        ctx = FitContext(
            backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
            train=self.states(source, seed, "source", "train", "pretrained"),
            validation=self.states(source, seed, "source", "validation", "pretrained"),
            make_trunk=self.trunk_factory(rt, "pretrained", seed), source=None,
            generator=torch.Generator().manual_seed(seed), device=self.device,
        )
        t0 = time.perf_counter()
        model = make_method(REFERENCE_METHOD).fit(ctx)
        history = {"fit_seconds": time.perf_counter() - t0, "examples_processed": ctx.examples_processed,
                   "training": ctx.training}
        return model, history
