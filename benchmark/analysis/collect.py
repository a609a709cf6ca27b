"""Run results as the statistics need them: each ok run's per-example correctness, sorted by
id, grouped by pair (:class:`~benchmark.runs.store.PairKey`), and aligned across runs on shared ids."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmark.analysis import stats
from benchmark.runs.roles import Roles
from benchmark.runs.store import PairKey, RunId, RunRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunData:
    """The per-example results of one ok run, sorted by id."""

    ids: npt.NDArray[np.str_]
    correct: npt.NDArray[np.bool_]
    accuracy: float
    macro_f1: float
    wall_seconds: float
    examples_processed: float


def load_run(record: RunRecord) -> RunData:
    """The predictions of an ``ok`` record. The store has checked them on reading the record
    (:func:`~benchmark.runs.store.predictions_problem`: row count, unique ids, no empty cells,
    ``correct == (label == prediction)``), so an untrustworthy run never reaches here as ok."""
    frame = record.predictions(columns=["label", "prediction", "correct"])
    if len(frame) == 0:
        raise ValueError("predictions.parquet has no rows")
    ids = frame["id"].to_numpy(dtype=str)
    order = np.argsort(ids, kind="stable")  # numpy's order, which searchsorted relies on
    ids = ids[order]
    label = frame["label"].to_numpy()[order]
    prediction = frame["prediction"].to_numpy()[order]
    correct = frame["correct"].to_numpy()[order].astype(bool)
    manifest = record.manifest
    assert manifest is not None  # an ok record has one
    return RunData(
        ids=ids,
        correct=correct,
        accuracy=float(np.mean(correct)),
        macro_f1=stats.macro_f1(label, prediction),
        # A fit served from the shared cache (reused_fit) is part of what the method costs.
        wall_seconds=manifest.wall_seconds,
        examples_processed=manifest.examples_with_reused,
    )


class RunResults:
    """Run records grouped by pair (:class:`~benchmark.runs.store.PairKey`), with loaded predictions."""

    def __init__(self, records: Sequence[RunRecord], roles: Mapping[str, Roles] | None = None) -> None:
        self.roles = dict(roles or {})
        self.status: dict[RunId, str] = {}
        self.records: dict[RunId, RunRecord] = {}
        self.data: dict[RunId, RunData] = {}
        self.groups: dict[PairKey, list[RunId]] = defaultdict(list)
        for record in records:
            key = record.run
            status = record.status
            if status == "ok":
                try:
                    self.data[key] = load_run(record)
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("counting run %s as failed: unreadable predictions (%s)",
                                record.path, exc)
                    status = "failed"
            self.status[key] = status
            self.records[key] = record
            self.groups[key.pair].append(key)

    def roles_of(self, suite: str) -> Roles:
        """The suite's roles (its reference and judge; the defaults when none were recorded)."""
        return self.roles.get(suite, Roles())

    def keys(self, pair: PairKey) -> list[RunId]:
        """The pair's runs (one per seed), sorted."""
        return sorted(self.groups.get(pair, []))

    def seed_status(self, pair: PairKey) -> dict[int, str]:
        return {k.seed: self.status[k] for k in self.keys(pair)}


def aligned(runs: Sequence[RunData], what: str) -> tuple[npt.NDArray[np.str_],
                                                            npt.NDArray[np.bool_]]:
    """Correctness of several runs on their common example ids. Shape (len(runs), N)."""
    common = runs[0].ids
    if all(np.array_equal(run.ids, common) for run in runs[1:]):  # the usual case
        return common, np.vstack([run.correct for run in runs])
    for run in runs[1:]:
        common = np.intersect1d(common, run.ids, assume_unique=True)
    log.warning("%s: runs cover different test examples; using the %d ids they share",
                what, common.size)
    rows = []
    for run in runs:
        idx = np.searchsorted(run.ids, common)
        rows.append(run.correct[idx])
    matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=bool)
    return common, matrix


def pair_rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and a stable hash of ``parts`` (order-independent of
    other pairs, identical across runs and platforms)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=words))

