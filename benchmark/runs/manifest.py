"""``run.json``: the record of one run, written and read by one type.

Executors make a :class:`RunManifest`, the store writes it with :meth:`RunManifest.to_json`
and reads it back with :meth:`RunManifest.from_json`, and the tests' generated runs use it
too, so there is one schema. ``schema_version`` says which; a record from before it existed
reads as version 1, a record of a newer version is refused with the fix (upgrade), and an
unknown field is an error rather than something silently dropped.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmark.errors import environment_cause

SCHEMA_VERSION = 1

RunStatus = Literal["running", "ok", "failed"]
FailureKind = Literal["run", "environment"]


@dataclass(frozen=True)
class RunManifest:
    """One run's identity, settings, provenance, outcome and cost (``run.json``)."""

    # identity
    suite: str
    target: str
    source: str | None  # None: a per-target method
    method: str
    budget: int
    seed: int
    key: str  # the content key the run store compares (runs/keys.py)
    status: RunStatus = "running"
    schema_version: int = SCHEMA_VERSION
    # settings
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    backbone: str | None = None
    precision: str | None = None
    protocol: dict[str, Any] = field(default_factory=dict)
    # the target task as the run saw it
    num_labels: int | None = None
    label_names: list[str] = field(default_factory=list)
    task_kind: str | None = None
    synthetic: bool | None = None
    primary_metric: str | None = None
    # provenance
    code_version: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    plugins: dict[str, Any] = field(default_factory=dict)
    suite_file: str | None = None
    suite_hash: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    # outcome
    error: str | None = None
    #: Whose fault a failure was: ``"run"`` (this version records only these; the machine's
    #: faults stop the command) or ``"environment"``. None: not failed, or an older record,
    #: whose ``error`` text decides (:attr:`failure_kind`).
    failure: FailureKind | None = None
    traceback: str | None = None
    n_test: int = 0
    accuracy: float | None = None
    examples_processed: int = 0
    training: dict[str, Any] | None = None
    #: What a shared reference fit this run reused cost (``fit_seconds``, ``examples_processed``).
    reused_fit: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failure_kind(self) -> FailureKind | None:
        """Why a failed run failed: ``"environment"`` (the machine: a read-only or full disk, a
        missing device; a plain ``run`` retries it) or ``"run"``; None when it did not fail."""
        if self.status != "failed":
            return None
        if self.failure is not None:
            return self.failure
        return "environment" if environment_cause(self.error or "") else "run"

    @property
    def wall_seconds(self) -> float:
        """The run's own wall time plus that of a shared fit it reused (what it costs alone)."""
        reused = float((self.reused_fit or {}).get("fit_seconds", 0.0))
        return float(self.timings.get("wall_seconds", math.nan)) + reused

    @property
    def examples_with_reused(self) -> float:
        """Examples processed, including those of a shared fit it reused."""
        return float(self.examples_processed) + float((self.reused_fit or {}).get("examples_processed", 0))

    @property
    def run_precision(self) -> str:
        """The precision the run was computed at (older records: the protocol's bf16 flag)."""
        if self.precision:
            return self.precision
        train = self.protocol.get("train")
        return "bf16" if isinstance(train, dict) and train.get("bf16", True) else "fp32"

    def replace(self, **changes: Any) -> RunManifest:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written as ``run.json``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> RunManifest:
        """Read a ``run.json`` object; ValueError (one line, with the fix) when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("run.json is not a JSON object")
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ValueError(f"run.json has schema_version {version!r}, newer than this benchmark's "
                             f"{SCHEMA_VERSION}; upgrade benchmark to read it")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"run.json has unknown field(s) {unknown}; it was not written by this "
                             f"benchmark: rerun the run")
        missing = [name for name in ("suite", "target", "method", "budget", "seed", "key") if name not in data]
        if missing:
            raise ValueError(f"run.json lacks {missing}; rerun the run")
        return cls(**{**data, "schema_version": version})
