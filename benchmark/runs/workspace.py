"""The workspace: the data, stem states and source models that the runs of a suite share.

Each target is resolved once into a :class:`ResolvedTask` (task, its family's protocol,
backbone and frozen depth); everything below is looked up through it. Stem states are
cached on disk by content and in memory for the process; fits of the reference method
(source models, ``target_only`` fits, the start of the merging methods) are trained once per
content key and cached on disk.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import datasets
import torch

from benchmark import paths
from benchmark.data.task import Budget, Task
from benchmark.errors import ConfigError
from benchmark.faults import fault_point
from benchmark.fingerprint import FIT_ENTRY, content_hash, draw_fingerprint
from benchmark.models.backbones import Backbone, FeatureCache, StemInit, get_backbone, parse_trainable
from benchmark.models.method import FitContext, Method, make_method
from benchmark.models.training import Classifier, LabeledStates, freeze
from benchmark.runs.fit_process import IsolatedFits
from benchmark.runs.keys import run_code_version
from benchmark.runs.store import RunId
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


@dataclass(frozen=True)
class FitJob:
    """A reference fit that runs depend on: the reference method on the draw of ``task`` for
    ``seed`` as a source (``role="source"``, the protocol's source budget) or as a target at
    ``budget``. Explicit, so an executor can schedule it before the runs that need it."""

    task: str
    seed: int
    role: Role = "source"
    budget: int | None = None

    def label(self) -> str:
        return f"{self.task} seed={self.seed}" + (f" budget={self.budget}" if self.role == "target" else "")


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
        self.suite = suite.with_precision(None, device)  # no-op for an already resolved suite
        self.device = device
        self.cache_dir = cache_dir
        root = cache_dir or paths.cache_dir()
        self.cache = FeatureCache(root / "features")
        self.model_dir = root / "fits"
        self._resolved: dict[str, ResolvedTask] = {}
        self._data: dict[tuple[str, int, Role, int | None], datasets.DatasetDict] = {}
        self._fingerprints: dict[tuple[str, int, Role, int | None], str] = {}
        self._states: dict[tuple[Any, ...], LabeledStates] = {}
        self._fits: dict[str, Classifier] = {}
        self._fit_keys: dict[tuple[str, int, Role, int | None], str] = {}
        self._pretrained: dict[str, torch.nn.Module] = {}
        self._fit_worker = IsolatedFits()
        weakref.finalize(self, self._fit_worker.close)

    def close(self) -> None:
        """End the fit process (a later fit starts a new one)."""
        self._fit_worker.close()

    def fit_method(self, method: Method, ctx: FitContext) -> Classifier:
        """``method.fit(ctx)`` in the fit process, which never holds the test split
        (:mod:`~benchmark.runs.fit_process`); ``ctx`` gets the work the fit recorded. The
        method receives its own copies of ``ctx``'s inputs (pickled), so editing them in
        place changes nothing here. Returns what ``fit`` returned (checked by the caller)."""
        reply = self._fit_worker.fit(method, ctx)
        ctx.examples_processed, ctx.training = reply.examples_processed, reply.training
        return reply.model  # type: ignore[no-any-return]

    def resolve(self, task_name: str) -> ResolvedTask:
        """Task, protocol, backbone and frozen depth of ``task_name`` in this suite (computed once)."""
        if task_name not in self._resolved:
            task = self.suite.task(task_name)
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
        """:func:`~benchmark.fingerprint.draw_fingerprint` of :meth:`data`, computed once."""
        key = (task_name, seed, role, budget)
        if key not in self._fingerprints:
            self._fingerprints[key] = draw_fingerprint(self.data(task_name, seed, role, budget))
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

    # Fits of the reference method, shared by content: a source model is the reference fit on
    # the source's draw, a target_only run is the reference fit on the target's draw, and the
    # merging methods start from that same fit. Trained once, cached on disk by content key.

    def fit_key(self, job: FitJob) -> str:
        """Content key of a reference fit: backbone, protocol (precision included), the draw's
        train and validation content, seed and the recipe's code. Two jobs with one key are one fit."""
        key = (job.task, job.seed, job.role, job.budget)
        if key not in self._fit_keys:
            rt = self.resolve(job.task)
            draw = self.data(job.task, job.seed, job.role, job.budget)
            recipe = make_method(self.suite.roles.reference)
            self._fit_keys[key] = content_hash({
                "backbone": rt.backbone.identity(), "protocol": rt.protocol.to_dict(),
                "data": draw_fingerprint(datasets.DatasetDict({s: draw[s] for s in ("train", "validation")})),
                "seed": job.seed, "recipe": self.suite.roles.reference, "hyperparameters": recipe.hyperparameters(),
                # The closures of the fit's trainer, the recipe and the task's module (or its YAML and data).
                "code": run_code_version(type(recipe), [rt.task], FIT_ENTRY),
            })
        return self._fit_keys[key]

    def fitted(self, job: FitJob) -> Classifier:
        """The frozen reference fit of ``job``: from memory, the disk cache, or trained now."""
        key = self.fit_key(job)
        if key not in self._fits:
            path = self._fit_path(job)
            model = self._load_fit(path, job) if path.exists() else None
            if model is None:
                model, history = self._train_fit(job)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")  # own name: workers may race
                torch.save(model.state_dict(), tmp)
                record = path.with_suffix(".json")
                tmp_record = record.with_suffix(f".{os.getpid()}.tmp.json")
                tmp_record.write_text(json.dumps({"key": key, **history}))
                tmp_record.replace(record)  # the record first: a model file always has one
                fault_point("fit.before_replace")
                tmp.replace(path)
            self._fits[key] = freeze(model)
        return self._fits[key]

    def source_model(self, source: str, seed: int) -> Classifier:
        """The frozen source-tuned classifier for (backbone, source task, seed): the reference
        fit on the source's draw."""
        return self.fitted(FitJob(source, seed))

    def trainable_copy(self, job: FitJob) -> Classifier:
        """A fresh, trainable copy of the reference fit of ``job`` (the trunk's trainable blocks
        train again, as a fresh trunk's would), for a method that starts from it."""
        model = self._fit_skeleton(job)
        model.load_state_dict(self.fitted(job).state_dict())
        return model.eval()

    def _load_fit(self, path: Path, job: FitJob) -> Classifier | None:
        """The cached fit, or None (with a warning) when its file is unreadable."""
        model = self._fit_skeleton(job)
        try:
            model.load_state_dict(torch.load(path, weights_only=True))
        except Exception as exc:  # a torn or foreign file is retrained, never used
            log.warning("retraining %s: unreadable cache file (%s)", path.name, str(exc)[:200])
            return None
        return model

    def fit_record(self, job: FitJob) -> dict[str, Any]:
        """What the reference fit of ``job`` cost and measured (run.json's ``reused_fit``): its
        file name, ``fit_seconds``, ``examples_processed`` and ``training`` history."""
        path = self._fit_path(job)
        record = path.with_suffix(".json")
        history = json.loads(record.read_text()) if record.exists() else {}
        history.pop("key", None)
        return {"fit": path.name, **history}

    def serves_reference_fit(self, run: RunId, method: Method) -> bool:
        """Whether ``run`` *is* a reference fit: the reference method with its default
        hyperparameters, so the shared fit serves it (trained once, whoever asks first)."""
        reference = self.suite.roles.reference
        return run.method == reference and not run.source_task and \
            method.hyperparameters() == make_method(reference).hyperparameters()

    def _fit_path(self, job: FitJob) -> Path:
        return self.model_dir / f"{job.task}-seed{job.seed}-{self.fit_key(job)}.pt"

    def adopt_fit(self, job: FitJob, state: Mapping[str, torch.Tensor]) -> None:
        """Use ``state`` (the weights of :meth:`fitted` computed elsewhere, e.g. by another
        worker) as the fit of ``job`` in this workspace."""
        model = self._fit_skeleton(job)
        model.load_state_dict(state)
        self._fits[self.fit_key(job)] = freeze(model)

    def _fit_skeleton(self, job: FitJob) -> Classifier:
        rt = self.resolve(job.task)
        return Classifier(self.trunk_factory(rt, "pretrained", job.seed)(),
                          torch.nn.Linear(rt.backbone.feature_dim, rt.task.num_labels))

    def _train_fit(self, job: FitJob) -> tuple[Classifier, dict[str, Any]]:
        """The reference method on the draw of ``job``. Returns the model and what training it
        cost (seconds, examples, history)."""
        rt = self.resolve(job.task)
        ctx = FitContext(
            backbone=rt.backbone, config=rt.protocol.train, num_labels=rt.task.num_labels,
            train=self.states(job.task, job.seed, job.role, "train", "pretrained", job.budget),
            validation=self.states(job.task, job.seed, job.role, "validation", "pretrained", job.budget),
            make_trunk=self.trunk_factory(rt, "pretrained", job.seed), source=None,
            generator=torch.Generator().manual_seed(job.seed), device=self.device,
        )
        t0 = time.perf_counter()
        model = self.fit_method(make_method(self.suite.roles.reference), ctx)
        history = {"fit_seconds": time.perf_counter() - t0, "examples_processed": ctx.examples_processed,
                   "training": ctx.training}
        return model, history
