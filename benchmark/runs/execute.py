"""Execute one run: fit the method on the target's train/validation data, predict the test
split, and return the predictions and the run record. Writes nothing (the store does)."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from benchmark.errors import BenchmarkError, ConfigError, EnvironmentFault, environment_cause
from benchmark.models.method import FitContext, make_method
from benchmark.models.training import Classifier, predict_logits
from benchmark.runs.keys import plugin_files, run_code_version, versions
from benchmark.runs.manifest import RunManifest
from benchmark.runs.store import RunId
from benchmark.runs.workspace import FitJob, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunJob:
    """One run to execute, with its content key, its method's hyperparameters and the
    reference fits it needs (its source model, the target's reference fit; explicit, so an
    executor can schedule it after them)."""

    run: RunId
    key: str
    hyperparameters: dict[str, Any]
    #: The source models (the reference fit on each source's draw, in the order of the run's
    #: source set), for methods with needs_source; one for a pair, K for a group.
    source_fits: tuple[FitJob, ...] = ()
    #: The reference fit on the run's target draw, for methods with needs_reference_fit or a
    #: run that *is* that fit (``serves_fit``: the shared fit serves it instead of training it).
    target_fit: FitJob | None = None
    serves_fit: bool = False

    @property
    def needs(self) -> tuple[FitJob, ...]:
        """The fits an executor must make before this run. Two may be one fit (same content key)."""
        return tuple(j for j in (*self.source_fits, self.target_fit) if j is not None)


@dataclass(frozen=True)
class RunOutcome:
    """What executing a run produced: predictions (None when it failed) and its ``run.json``."""

    predictions: pa.Table | None
    manifest: RunManifest

    @property
    def ok(self) -> bool:
        return self.manifest.ok


def execute_run(ws: Workspace, job: RunJob) -> RunOutcome:
    """Run one (method, pair, seed); a failure is returned as a failed record, never raised."""
    spec = job.run
    method = make_method(spec.method, job.hyperparameters)
    rt = ws.resolve(spec.target)
    task, p = rt.task, rt.protocol
    tasks = [ws.suite.task(t) for t in (spec.target, *spec.sources)]
    manifest = RunManifest(
        suite=spec.suite, target=spec.target, source=spec.source_task, method=spec.method, budget=spec.budget,
        seed=spec.seed, key=job.key, backbone=p.backbone, precision=p.precision, protocol=p.to_dict(),
        hyperparameters=method.hyperparameters(), num_labels=task.num_labels, label_names=list(task.label_names),
        task_kind=task.kind, synthetic=task.synthetic, primary_metric=task.primary_metric,
        code_version=run_code_version(type(method), tasks), versions=versions(),
        plugins=plugin_files(type(method), tasks),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    t0 = time.perf_counter()
    fit_seconds = predict_seconds = 0.0
    table: pa.Table | None = None
    try:
        init = type(method).stem_init
        train = ws.states(spec.target, spec.seed, "target", "train", init, spec.budget)
        val = ws.states(spec.target, spec.seed, "target", "validation", init, spec.budget)
        cls = type(method)
        sources = tuple(ws.fitted(f) for f in job.source_fits)
        if (cls.needs_source and not sources) or (cls.needs_source_data and not spec.sources):
            raise ConfigError(f"method {spec.method!r} needs a source task")
        if len(spec.sources) > 1 and not cls.takes_sources(len(spec.sources)):
            raise ConfigError(f"method {spec.method!r} takes at most {cls.max_sources} source(s), not the "
                              f"{len(spec.sources)} of {spec.source}")
        if spec.merges_all and not cls.takes_merge_all(len(spec.sources)):
            raise ConfigError(f"method {spec.method!r} cannot merge a merge-all group ({spec.source}); it needs "
                              "merges_all = True and needs_reference_fit = True")
        target_fit = job.target_fit
        if cls.needs_reference_fit and target_fit is None:
            raise ConfigError(f"method {spec.method!r} needs the reference fit of its target")
        ctx = FitContext(
            backbone=rt.backbone, config=p.train, num_labels=task.num_labels,
            # The fit process gets pickled copies: editing them in place changes no later run.
            train=train, validation=val, make_trunk=ws.trunk_factory(rt, init, spec.seed),
            # The source pool; with one source, ``source``, ``source_train`` etc. are set from it.
            source=None, sources=sources if cls.needs_source else (),
            generator=torch.Generator().manual_seed(spec.seed),
            device=ws.device,
            source_trains=tuple(ws.states(s, spec.seed, "source", "train", init) for s in spec.sources)
            if cls.needs_source_data else (),
            source_label_counts=tuple(ws.resolve(s).task.num_labels for s in spec.sources),
            source_feature_dims=tuple(ws.resolve(s).backbone.feature_dim for s in spec.sources),
            reference=ws.trainable_copy(target_fit) if cls.needs_reference_fit and target_fit else None,
            # Merge all: the pool is the group's K experts; each task's validation draw scores a merge.
            merge_all=spec.merges_all,
            merge_index=spec.sources.index(spec.target) if spec.merges_all else -1,
            source_validations=tuple(ws.states(s, spec.seed, "source", "validation", init) for s in spec.sources)
            if spec.merges_all else (),
        )
        if target_fit is not None:  # what the shared fit cost, so the run's cost stays the method's
            manifest = manifest.replace(reused_fit=ws.fit_record(target_fit))
        t1 = time.perf_counter()
        if job.serves_fit:
            assert target_fit is not None
            model = ws.trainable_copy(target_fit)  # the same fit, trained once (docs/performance.md)
        else:
            model = ws.fit_method(method, ctx)  # in the fit process: no test split there
        fit_seconds = time.perf_counter() - t1
        if not isinstance(model, Classifier):
            raise BenchmarkError(f"{spec.method}.fit returned {type(model).__name__}; return a Classifier")
        # Only now is the test split touched; its labels stay here, away from the method.
        test = ws.states(spec.target, spec.seed, "target", "test", init, spec.budget)
        t2 = time.perf_counter()
        logits = predict_logits(model, test.states, p.train, ws.device)
        predict_seconds = time.perf_counter() - t2
        if logits.shape != (len(test), task.num_labels):
            raise BenchmarkError(f"{spec.method}'s model gives logits of shape {tuple(logits.shape)} for "
                                 f"{len(test)} examples; its head must have num_labels={task.num_labels} outputs")
        if not torch.isfinite(logits).all():
            raise FloatingPointError("the model predicts non-finite logits")
        table = prediction_table(test.ids, test.labels.numpy(), torch.softmax(logits, 1).numpy())
        manifest = manifest.replace(status="ok", n_test=len(test), accuracy=float(np.mean(table["correct"].to_numpy())),
                                    examples_processed=ctx.examples_processed + len(test), training=ctx.training)
    except Exception as exc:  # one bad run must not take the grid down (MemoryError is an Exception)
        cause = environment_cause(exc)
        if cause:  # the machine's fault fails every run alike: stop (exit 4), record nothing
            raise EnvironmentFault(f"{cause} (in run {spec.label()}); fix the machine, then rerun the same "
                                   "command (finished runs are kept)") from exc
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        manifest = manifest.replace(status="failed", failure="run", error=f"{type(exc).__name__}: {first_line}",
                                    traceback=traceback.format_exc(), n_test=0, examples_processed=0)
        log.error("run failed: %s: %s", spec.label(), manifest.error)
        table = None
    manifest = manifest.replace(
        timings={"wall_seconds": time.perf_counter() - t0, "fit_seconds": fit_seconds,
                 "predict_seconds": predict_seconds},
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"))
    return RunOutcome(table, manifest)


def prediction_table(ids: list[str], labels: np.ndarray, probabilities: np.ndarray) -> pa.Table:
    """Per-example predictions with stable ids. Shapes: ids (N,), labels (N,), probabilities (N, C)."""
    probs = probabilities.astype(np.float32)
    pred = probs.argmax(1)
    return pa.table({
        "id": pa.array(ids, pa.string()),
        "label": pa.array(labels.astype(np.int64)),
        "prediction": pa.array(pred.astype(np.int64)),
        "correct": pa.array(pred == labels),
        "probabilities": pa.array(list(probs), pa.list_(pa.float32())),
    })
