"""The harness: expands a suite into runs, runs them, and stores what they predicted.

A run is one (method, source → target, seed). It is a pure function of its config: its
key hashes the protocol, backbone, method hyperparameters, the data subsample and the
code version. A run whose ``run.json`` has the same key is skipped; a run folder without
``run.json`` was interrupted and is redone. Files are written atomically (temp file and
rename), predictions first and ``run.json`` last, so a run on disk is whole or absent.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import logging
import platform
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tqdm.auto import tqdm

import benchmark
from benchmark import paths
from benchmark.backbones import Backbone, FeatureCache, StemInit, get_backbone, parse_trainable
from benchmark.errors import BenchmarkError, ConfigError
from benchmark.method import METHODS, FitContext, Method, make_method, parse_overrides
from benchmark.run_store import atomic_write_bytes, atomic_write_json
from benchmark.suites import Protocol, Suite, get_suite
from benchmark.task import Budget, Task, column, get_task
from benchmark.training import Classifier, LabeledStates, fit, freeze, new_head, predict_logits

log = logging.getLogger(__name__)

REFERENCE_METHOD = "target_only"


@dataclass
class RunFilters:
    """Restrict a suite to some targets, methods or seeds; override hyperparameters."""

    tasks: list[str] | None = None
    methods: list[str] | None = None
    seeds: list[int] | None = None
    hyperparameters: list[str] = field(default_factory=list)
    retry_failed: bool = False


@dataclass(frozen=True)
class RunSpec:
    suite: str
    target: str
    method: str
    source: str | None
    seed: int

    def directory(self, results_dir: Path) -> Path:
        return (Path(results_dir) / "runs" / self.suite / self.target / self.method
                / (self.source or "-") / f"seed={self.seed}")

    def label(self) -> str:
        return f"{self.method} {self.source or '∅'}→{self.target} seed={self.seed}"


@dataclass
class Summary:
    n_planned: int = 0
    n_skipped: int = 0
    n_ok: int = 0
    n_failed: int = 0
    wall_seconds: float = 0.0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"{self.n_planned} runs: {self.n_ok} ran, {self.n_skipped} already done, "
                f"{self.n_failed} failed ({self.wall_seconds:.0f} s)")
        if self.failed:
            text += "; failed: " + "; ".join(self.failed[:5]) + (" ..." if len(self.failed) > 5 else "")
        return text


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _file_hash(*files: str | Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


_CORE_FILES = [Path(__file__).with_name(n) for n in ("training.py", "backbones.py", "method.py")]


def code_version(method_cls: type) -> str:
    """Hash of the training code and the method's own file (what determines its numbers)."""
    source = inspect.getsourcefile(method_cls)
    return _file_hash(*_CORE_FILES, *([source] if source else []))


def _versions() -> dict[str, str]:
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "numpy": np.__version__, "benchmark": benchmark.__version__}


def _data_fingerprint(dd: datasets.DatasetDict) -> str:
    """Hash of the ids and labels of every split of a subsample."""
    return _hash({s: [column(dd[s], "id").astype(str).tolist(), column(dd[s], "label").astype(int).tolist()]
                  for s in dd})


class TrunkFactory:
    """Builds fresh trunks for a method. Holds no reference to the harness or its data, so
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


class Harness:
    """Runs a suite's runs in one process, sharing data, stem features and source models."""

    def __init__(self, suite: Suite, results_dir: str | Path, device: str = "cpu",
                 overrides: dict[str, dict[str, str]] | None = None, cache_dir: Path | None = None):
        self.suite = suite
        self.results_dir = Path(results_dir)
        self.device = device
        self.overrides = overrides or {}
        self.cache = FeatureCache(cache_dir or paths.cache_dir() / "features")
        self.model_dir = (cache_dir or paths.cache_dir()) / "source_models"
        self._data: dict[tuple[str, int, str], datasets.DatasetDict] = {}
        self._fingerprints: dict[tuple[str, int, str], str] = {}
        self._states: dict[tuple[Any, ...], LabeledStates] = {}
        self._sources: dict[tuple[str, int], Classifier] = {}
        self._pretrained: dict[str, Any] = {}

    # -- shared pieces ----------------------------------------------------------------------
    def protocol(self, task: Task) -> Protocol:
        try:
            return self.suite.protocols[task.family]
        except KeyError:
            raise ConfigError(f"suite {self.suite.name!r} has no protocol for {task.family} tasks.") from None

    def backbone(self, task: Task) -> Backbone:
        return get_backbone(self.protocol(task).backbone)

    def data(self, task_name: str, seed: int, role: str) -> datasets.DatasetDict:
        """The task's subsample for ``seed`` with the protocol's budget for ``role`` (target/source)."""
        key = (task_name, seed, role)
        if key not in self._data:
            task = get_task(task_name)
            p = self.protocol(task)
            train = p.train_budget if role == "target" else p.source_train_budget
            budget = Budget(train, p.validation_budget, p.test_budget)
            self._data[key] = task.load(seed=seed, budget=budget)
        return self._data[key]

    def fingerprint(self, task_name: str, seed: int, role: str) -> str:
        """:func:`_data_fingerprint` of :meth:`data`, computed once per process."""
        key = (task_name, seed, role)
        if key not in self._fingerprints:
            self._fingerprints[key] = _data_fingerprint(self.data(task_name, seed, role))
        return self._fingerprints[key]

    def states(self, task_name: str, seed: int, role: str, split: str, init: StemInit) -> LabeledStates:
        """Stem states of a split (cached on disk by content, and in memory for this process)."""
        key = (task_name, seed if split != "test" else None, role, split, init,
               seed if init == "random" else None)
        if key not in self._states:
            task = get_task(task_name)
            backbone = self.backbone(task)
            n_frozen = parse_trainable(self.protocol(task).trainable, backbone)
            ds = self.data(task_name, seed, role)[split]
            st = backbone.encode(ds.remove_columns("label"), n_frozen, init, seed, self.cache,
                                 device=self.device)
            self._states[key] = LabeledStates(st, torch.tensor(ds["label"], dtype=torch.long),
                                              [str(i) for i in ds["id"]])
        return self._states[key]

    def trunk_factory(self, task: Task, init: StemInit, seed: int) -> TrunkFactory:
        backbone = self.backbone(task)
        pretrained = None
        if init == "pretrained":
            if backbone.name not in self._pretrained:
                self._pretrained[backbone.name] = backbone.build("pretrained", None)
            pretrained = self._pretrained[backbone.name]
        return TrunkFactory(backbone, parse_trainable(self.protocol(task).trainable, backbone),
                            init, seed, pretrained)

    def make_trunk(self, task: Task, init: StemInit, seed: int) -> torch.nn.Module:
        return self.trunk_factory(task, init, seed)()

    def source_model(self, source: str, seed: int) -> Classifier:
        """The source-tuned classifier for (backbone, source task, seed): trained once, cached."""
        if (source, seed) in self._sources:
            return self._sources[(source, seed)]
        task = get_task(source)
        p = self.protocol(task)
        backbone = self.backbone(task)
        key = _hash({"backbone": backbone.identity(), "protocol": p.to_dict(), "task": source,
                     "data": self.fingerprint(source, seed, "source"), "seed": seed,
                     "code": code_version(METHODS.get(REFERENCE_METHOD))})
        path = self.model_dir / f"{source}-seed{seed}-{key}.pt"
        head = torch.nn.Linear(backbone.feature_dim, task.num_labels)
        model = Classifier(self.make_trunk(task, "pretrained", seed), head)
        if path.exists():
            model.load_state_dict(torch.load(path, weights_only=True))
        else:
            generator = torch.Generator().manual_seed(seed)
            model.head = new_head(backbone.feature_dim, task.num_labels, generator)
            train = self.states(source, seed, "source", "train", "pretrained")
            val = self.states(source, seed, "source", "validation", "pretrained")
            fit(model, train, val, p.train, generator, device=self.device, desc=f"source {source}")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            torch.save(model.state_dict(), tmp)
            tmp.replace(path)
        self._sources[(source, seed)] = freeze(model)
        return self._sources[(source, seed)]

    # -- one run ----------------------------------------------------------------------------
    def method_for(self, name: str) -> Method:
        return make_method(name, self.overrides.get(name))

    def run_key(self, spec: RunSpec, method: Method) -> str:
        task = get_task(spec.target)
        p = self.protocol(task)
        data = {"target": self.fingerprint(spec.target, spec.seed, "target")}
        if spec.source:
            data["source"] = self.fingerprint(spec.source, spec.seed, "source")
        return _hash({"spec": [spec.suite, spec.target, spec.method, spec.source, spec.seed],
                      "backbone": self.backbone(task).identity(), "protocol": p.to_dict(),
                      "hyperparameters": method.hyperparameters(), "data": data,
                      "code": code_version(type(method))})

    def is_done(self, spec: RunSpec, key: str, retry_failed: bool) -> bool:
        path = spec.directory(self.results_dir) / "run.json"
        if not path.exists():
            return False
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        if record.get("key") != key:
            return False
        return record.get("status") == "ok" or (record.get("status") == "failed" and not retry_failed)

    def run(self, spec: RunSpec, method: Method, key: str) -> dict[str, Any]:
        """Run one (method, pair, seed) and write its predictions and run.json."""
        out_dir = spec.directory(self.results_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "run.json").unlink(missing_ok=True)
        task = get_task(spec.target)
        p = self.protocol(task)
        record: dict[str, Any] = {
            "status": "running", "suite": spec.suite, "target": spec.target, "source": spec.source,
            "method": spec.method, "seed": spec.seed, "backbone": p.backbone, "protocol": p.to_dict(),
            "hyperparameters": method.hyperparameters(), "key": key, "error": None, "traceback": None,
            "num_labels": task.num_labels, "label_names": list(task.label_names),
            "task_kind": task.kind, "synthetic": task.synthetic, "primary_metric": task.primary_metric,
            "code_version": code_version(type(method)), "versions": _versions(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        t0 = time.perf_counter()
        fit_seconds = predict_seconds = 0.0
        try:
            init = type(method).stem_init
            train = self.states(spec.target, spec.seed, "target", "train", init)
            val = self.states(spec.target, spec.seed, "target", "validation", init)
            source = self.source_model(spec.source, spec.seed) if spec.source else None
            if type(method).needs_source and source is None:
                raise ConfigError(f"method {spec.method!r} needs a source task")
            ctx = FitContext(
                backbone=self.backbone(task), config=p.train, num_labels=task.num_labels,
                train=train, validation=val,
                make_trunk=self.trunk_factory(task, init, spec.seed),
                source=copy.deepcopy(source), generator=torch.Generator().manual_seed(spec.seed),
                device=self.device,
            )
            t1 = time.perf_counter()
            model = method.fit(ctx)
            fit_seconds = time.perf_counter() - t1
            if not isinstance(model, Classifier):
                raise BenchmarkError(f"{spec.method}.fit returned {type(model).__name__}; return a Classifier")
            # Only now does the harness touch the test split; labels stay with the harness.
            test = self.states(spec.target, spec.seed, "target", "test", init)
            t2 = time.perf_counter()
            logits = predict_logits(model, test.states, p.train, self.device)
            predict_seconds = time.perf_counter() - t2
            if not torch.isfinite(logits).all():
                raise FloatingPointError("the model predicts non-finite logits")
            probs = torch.softmax(logits, 1).numpy().astype(np.float32)
            pred = probs.argmax(1)
            labels = test.labels.numpy()
            table = pa.table({
                "id": pa.array(test.ids, pa.string()),
                "label": pa.array(labels.astype(np.int64)),
                "prediction": pa.array(pred.astype(np.int64)),
                "correct": pa.array(pred == labels),
                "probabilities": pa.array(list(probs), pa.list_(pa.float32())),
            })
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            atomic_write_bytes(out_dir / "predictions.parquet", sink.getvalue().to_pybytes())
            record.update(status="ok", n_test=len(labels),
                          examples_processed=ctx.examples_processed + len(labels), training=ctx.training,
                          accuracy=float((pred == labels).mean()))
        except (Exception, MemoryError) as exc:  # one bad run must not take the grid down
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            record.update(status="failed", error=f"{type(exc).__name__}: {first_line}",
                          traceback=traceback.format_exc(), n_test=0, examples_processed=0)
            log.error("run failed: %s: %s", spec.label(), record["error"])
            (out_dir / "predictions.parquet").unlink(missing_ok=True)
        record["timings"] = {"wall_seconds": time.perf_counter() - t0, "fit_seconds": fit_seconds,
                             "predict_seconds": predict_seconds}
        record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        atomic_write_json(out_dir / "run.json", record)
        return record


def plan_runs(suite: Suite, filters: RunFilters) -> list[RunSpec]:
    """Every run of the suite after filters: per-target methods once, fusion methods per pair."""
    from benchmark.errors import unknown_name

    methods = filters.methods or list(suite.methods or METHODS.names())
    for m in methods:
        METHODS.get(m)
    targets = filters.tasks or list(suite.tasks)
    for t in targets:
        if t not in suite.tasks:
            raise unknown_name(f"task of suite {suite.name!r}", t, suite.tasks)
    seeds = filters.seeds if filters.seeds is not None else list(suite.seeds)
    pairs = suite.pairs()
    specs: list[RunSpec] = []
    for target in targets:
        for seed in seeds:
            for m in methods:
                if METHODS.get(m).needs_source:
                    specs.extend(RunSpec(suite.name, target, m, s, seed) for s, t in pairs if t == target)
                else:
                    specs.append(RunSpec(suite.name, target, m, None, seed))
    return specs


def run_suite(suite_name: str = "default", results_dir: str | Path = "results",
              filters: RunFilters | None = None, device: str = "cpu", alpha: float = 0.05,
              correction: str = "holm", cache_dir: Path | None = None,
              build_leaderboard: bool = True) -> Summary:
    """Run (or resume) a suite and rebuild the leaderboards."""
    filters = filters or RunFilters()
    suite = get_suite(suite_name)
    overrides = parse_overrides(filters.hyperparameters)
    specs = plan_runs(suite, filters)
    for t in {s.target for s in specs} | {s.source for s in specs if s.source}:
        task = get_task(t)
        if not task.available:
            _, reasons = task.availability()
            raise BenchmarkError(f"task {t!r} is unavailable: {reasons[0] if reasons else '?'}; "
                                 "run bash scripts/setup.sh or filter it out with --tasks")
    harness = Harness(suite, results_dir, device, overrides, cache_dir)
    methods = {m: harness.method_for(m) for m in {s.method for s in specs}}
    plan_path = Path(results_dir) / "runs" / suite.name / "plan.json"
    atomic_write_json(plan_path, {"suite": suite.name, "runs": [
        {"target": s.target, "method": s.method, "source": s.source, "seed": s.seed} for s in specs]})
    summary = Summary(n_planned=len(specs))
    t0 = time.perf_counter()
    todo: list[tuple[RunSpec, str]] = []
    for spec in specs:
        key = harness.run_key(spec, methods[spec.method])
        if harness.is_done(spec, key, filters.retry_failed):
            summary.n_skipped += 1
        else:
            todo.append((spec, key))
    if todo:
        log.info("%d of %d runs to do (%d already done)", len(todo), len(specs), summary.n_skipped)
    # Source models first: they are shared by every fusion method of their seed.
    needed_sources = sorted({(s.source, s.seed) for s, _ in todo if s.source})
    for source, seed in tqdm(needed_sources, desc="source models", unit="model", disable=not needed_sources):
        try:
            harness.source_model(source, seed)
        except Exception as exc:  # recorded in each dependent run when it retries
            log.error("source model %s seed=%d failed: %s", source, seed, exc)
    bar = tqdm(todo, desc=f"suite {suite.name}", unit="run", disable=not todo)
    for spec, key in bar:
        bar.set_postfix_str(spec.label())
        record = harness.run(spec, methods[spec.method], key)
        if record["status"] == "ok":
            summary.n_ok += 1
        else:
            summary.n_failed += 1
            summary.failed.append(f"{spec.label()}: {record['error']}")
    summary.wall_seconds = time.perf_counter() - t0
    if build_leaderboard:
        from benchmark.leaderboard import build_leaderboards

        # A resumed run with nothing new skips the (bootstrap-heavy) rebuild when the
        # leaderboards were built from exactly these runs with the same settings.
        stamp = _leaderboard_inputs(Path(results_dir), alpha, correction)
        stamp_path = (cache_dir or paths.cache_dir()) / "leaderboard-inputs" / _hash(str(Path(results_dir).resolve()))
        board = Path(results_dir) / "leaderboards" / "leaderboard.csv"
        report = Path(results_dir) / "report" / "index.html"
        if board.exists() and report.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
            log.info("leaderboards and report are up to date with runs/; not rebuilt")
        else:
            from benchmark.report import build_report

            build_leaderboards(results_dir, alpha=alpha, correction=correction)
            build_report(results_dir)
            stamp_path.parent.mkdir(parents=True, exist_ok=True)
            stamp_path.write_text(stamp)
    return summary


def _leaderboard_inputs(results_dir: Path, alpha: float, correction: str) -> str:
    """Hash of everything the leaderboards are computed from (run records, plans, settings, code)."""
    from benchmark import leaderboard

    h = hashlib.sha256(f"{alpha}|{correction}".encode())
    h.update(Path(leaderboard.__file__).read_bytes())
    for path in sorted((results_dir / "runs").rglob("*.json")):
        h.update(str(path.relative_to(results_dir)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()

