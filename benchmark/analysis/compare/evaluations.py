"""Per-example results of several systems, as every importer hands them to ``compare``, and the
checks they must pass (one-line :class:`~benchmark.errors.DataError` each).

The tidy frame has one row per (task, system, seed, example_id): ``correct`` is 1 when the
system's prediction on that example is right. :func:`tidy` checks a frame; :class:`TaskRuns`
holds one task's runs as aligned correctness rows, the arrays the statistics take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.errors import DataError

#: The columns of the tidy frame, in order.
COLUMNS = ("task", "system", "seed", "example_id", "correct")
#: Ids or rows quoted in an error message.
_SHOWN = 3


def _few(values: Sequence[object]) -> str:
    head = ", ".join(repr(v) for v in list(values)[:_SHOWN])
    return head + (", ..." if len(values) > _SHOWN else "")


def _as_correct(values: pd.Series, where: str) -> npt.NDArray[np.bool_]:
    """``values`` as bool, when every value is 0/1 (or True/False); else a one-line DataError."""
    if values.isna().any():
        raise DataError(f"{where}: column 'correct' has {int(values.isna().sum())} empty cells; every row "
                        "needs 0 or 1")
    if values.dtype == bool:
        return values.to_numpy(dtype=bool)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() | ~numbers.isin([0, 1])]
    if len(bad):
        raise DataError(
            f"{where}: column 'correct' must be 0/1 for an accuracy test, found {_few(sorted(set(bad.astype(str))))}; "
            "compare tests per-example accuracy: pick a 0/1 metric (e.g. acc, exact_match), not a score")
    return numbers.to_numpy(dtype=float) == 1.0


def tidy(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check and normalise a tidy frame: columns :data:`COLUMNS` (``correct`` may be given as
    ``prediction`` + ``label``, equal when their text is); task, system, example_id as str,
    seed as int, correct as bool. Shape (rows, 5). One-line DataError for a missing column, a
    non-integer seed, a non-0/1 ``correct`` or a duplicate (task, system, seed, example_id)."""
    frame = frame.copy()
    if "correct" not in frame.columns and {"prediction", "label"} <= set(frame.columns):
        missing_cells = frame["prediction"].isna() | frame["label"].isna()
        if missing_cells.any():
            raise DataError(f"{where}: {int(missing_cells.sum())} rows have an empty prediction or label")
        frame["correct"] = frame["prediction"].astype(str) == frame["label"].astype(str)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)} (has {', '.join(map(str, frame.columns))}); "
                        "a tidy table needs system, seed, task, example_id and correct (or prediction + label)")
    seeds = pd.to_numeric(frame["seed"], errors="coerce")
    if seeds.isna().any() or not np.all(seeds == np.round(seeds)):
        bad = frame["seed"][seeds.isna() | (seeds != np.round(seeds))].tolist()
        raise DataError(f"{where}: column 'seed' must hold integers, found {_few(bad)}")
    out = pd.DataFrame({
        "task": frame["task"].astype(str).to_numpy(),
        "system": frame["system"].astype(str).to_numpy(),
        "seed": seeds.to_numpy(dtype=np.int64),
        "example_id": frame["example_id"].astype(str).to_numpy(),
        "correct": _as_correct(frame["correct"], where),
    })
    dup = out.duplicated(["task", "system", "seed", "example_id"], keep=False)
    if dup.any():
        rows = out[dup].drop_duplicates(["task", "system", "seed", "example_id"])
        shown = [f"{r.system}/seed={r.seed}/{r.task}/{r.example_id}" for r in rows.itertuples(index=False)]
        raise DataError(f"{where}: {len(rows)} duplicate (system, seed, task, example_id) rows, e.g. {_few(shown)}; "
                        "each system, seed and example must appear once (two files for one seed?)")
    return out


@dataclass(frozen=True)
class Evaluations:
    """What an importer returns.

    - frame: the tidy frame (:func:`tidy`), one row per (task, system, seed, example_id);
    - baselines: task -> the baseline system the source declares (this benchmark's results:
      the suite's reference); ``--baseline`` overrides it;
    - families: (task, system) -> family name the source declares (``--family native``);
    - designs: task -> the sequential design its seeds were added under (``run --until-decided``).
    """

    frame: pd.DataFrame
    baselines: Mapping[str, str] = field(default_factory=dict)
    families: Mapping[tuple[str, str], str] = field(default_factory=dict)
    designs: Mapping[str, SequentialDesign] = field(default_factory=dict)

    def tasks(self) -> list[str]:
        return sorted(set(self.frame["task"]))


@dataclass(frozen=True)
class TaskRuns:
    """One task's runs aligned on its examples: ids (N,) sorted, runs (system, seed) -> correct (N,)."""

    task: str
    ids: npt.NDArray[np.str_]
    runs: Mapping[tuple[str, int], npt.NDArray[np.bool_]]

    @classmethod
    def of(cls, frame: pd.DataFrame, task: str) -> TaskRuns:
        """The task's rows of a tidy frame; every (system, seed) must cover the same example ids."""
        rows = frame[frame["task"] == task]
        runs: dict[tuple[str, int], npt.NDArray[np.bool_]] = {}
        ids_of: dict[tuple[str, int], npt.NDArray[np.str_]] = {}
        for (system, seed), group in rows.groupby(["system", "seed"], sort=True):
            ids = group["example_id"].to_numpy(dtype=str)
            order = np.argsort(ids, kind="stable")  # the order of the leaderboard's runs
            ids_of[(str(system), int(seed))] = ids[order]
            runs[(str(system), int(seed))] = group["correct"].to_numpy(dtype=bool)[order]
        keys = list(ids_of)
        if not keys:
            raise DataError(f"task {task!r} has no rows")
        first = keys[0]
        for key in keys[1:]:
            if not np.array_equal(ids_of[key], ids_of[first]):
                only = np.setxor1d(ids_of[key], ids_of[first])
                raise DataError(
                    f"task {task!r}: {key[0]} seed {key[1]} and {first[0]} seed {first[1]} were evaluated on different "
                    f"examples ({only.size} ids in one but not the other, e.g. {_few(only.tolist())}); compare "
                    "needs the same examples for every system and seed: evaluate on one example set or filter "
                    "the input to the shared ids")
        return cls(task, ids_of[first], runs)

    def systems(self) -> list[str]:
        return sorted({system for system, _ in self.runs})

    def seeds(self, system: str) -> list[int]:
        return sorted(seed for s, seed in self.runs if s == system)

    def paired_seeds(self, system: str, other: str) -> list[int]:
        """Seed labels both systems have, sorted (possibly fewer than 2: see :func:`single_seed_error`)."""
        return sorted(set(self.seeds(system)) & set(self.seeds(other)))

    def matrix(self, system: str, seeds: Sequence[int]) -> npt.NDArray[np.bool_]:
        """Correctness of ``system`` at ``seeds``, shape (len(seeds), N)."""
        return np.vstack([self.runs[(system, seed)] for seed in seeds])


def single_seed_error(what: str) -> DataError:
    """The error when nothing has the 2 paired seeds the crossed variance model needs."""
    return DataError(
        f"{what}: no comparison has >= 2 paired seeds (the same seed labels for both systems); the crossed seed x "
        "example variance model needs 2. With one seed only McNemar's exact test of that seed's two models is "
        "testable, a test about those two trained models, not about the systems: rerun with more seeds")
