"""The verdict table of ``compare``: every system against the baseline on every task, tested
within a family with the leaderboard's code (:func:`~benchmark.analysis.transfer.family_tests`,
:func:`~benchmark.analysis.transfer.family_verdicts`).

Families (``--family``):

- ``task`` (default for external data): all comparisons against the baseline on one task;
- ``system``: one system's comparisons over every task (the leaderboard's shape: a method's pairs);
- ``native``: the families the source declares (this benchmark's results: the leaderboard's,
  one per suite, method, budget and control direction).

Seed variance is moderated among a family's comparisons on the same task (they share the
baseline's runs), as the leaderboard moderates it among a method's pairs on one target.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.compare.evaluations import Evaluations, TaskRuns, single_seed_error
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import AnalysisSettings
from benchmark.analysis.transfer import family_tests, family_verdicts
from benchmark.errors import ConfigError, DataError, unknown_name

log = logging.getLogger(__name__)

#: Values of ``--family``.
FAMILIES = ("task", "system", "native")

#: Columns of ``verdicts.csv`` and their meaning (docs/user-guide/compare.md).
VERDICT_COLUMNS: dict[str, str] = {
    "task": "Task the systems were evaluated on.",
    "system": "System compared with the baseline.",
    "baseline": "The baseline system (--baseline).",
    "n_seeds": "Paired seeds: seed labels both the system and the baseline have.",
    "n_examples": "Examples of the task (the same for every system and seed).",
    "system_accuracy": "Mean accuracy of the system over the paired seeds.",
    "baseline_accuracy": "Mean accuracy of the baseline over the same seeds.",
    "gain": "system_accuracy - baseline_accuracy (0.01 = one point).",
    "ci_low": "Lower end of the gain's 95% interval (crossed seed x example t model).",
    "ci_high": "Upper end of that interval.",
    "se": "Standard error of the gain.",
    "df": "Satterthwaite degrees of freedom of the t reference.",
    "p_value": "Two-sided p of the moderated crossed t test (gain = 0).",
    "p_adj": "p_value adjusted within the family (--correction).",
    "p_equivalence": "TOST p for |gain| < margin.",
    "p_equivalence_adj": "p_equivalence adjusted within the family.",
    "margin": "Equivalence margin (--margin).",
    "mde": "Smallest |gain| detectable with 80% power at the family's threshold.",
    "seeds_to_decide": "Seeds that would likely decide an undecided comparison (empty: none up to 20).",
    "family": "The family the p-values were adjusted in (--family).",
    "correction": "The correction (--correction).",
    "alpha": "Significance level (--alpha).",
    "verdict": "positive / negative (p_adj < alpha), equivalent (p_equivalence_adj < alpha), else inconclusive.",
}


@dataclass(frozen=True)
class Comparison:
    """One system against the baseline on one task: correctness (S, N) each, paired seeds."""

    task: str
    system: str
    baseline: str
    seeds: tuple[int, ...]
    correct_system: npt.NDArray[np.bool_]
    correct_baseline: npt.NDArray[np.bool_]
    family: str


def baseline_of(evaluations: Evaluations, task: str, systems: list[str], baseline: str | None) -> str:
    """``--baseline`` or the source's; an unknown name is an error with a did-you-mean."""
    name = baseline or evaluations.baselines.get(task)
    if name is None:
        raise ConfigError(f"no baseline for task {task!r}: pass --baseline NAME (one of {', '.join(systems)})")
    if name not in systems:
        raise unknown_name("system", name, systems, f"on task {task!r}")
    return name


def _family(kind: str, evaluations: Evaluations, task: str, system: str) -> str:
    if kind == "task":
        return task
    if kind == "system":
        return system
    if (task, system) not in evaluations.families:
        raise ConfigError(f"--family native: the input declares no family for {system} on {task!r}; "
                          "use --family task or --family system")
    return evaluations.families[(task, system)]


def comparisons(evaluations: Evaluations, tasks: dict[str, TaskRuns], baseline: str | None,
                family: str) -> list[Comparison]:
    """Every (task, system != baseline) comparison, sorted by task then system."""
    if family not in FAMILIES:
        raise unknown_name("family", family, FAMILIES)
    out = []
    for task, runs in sorted(tasks.items()):
        systems = runs.systems()
        base = baseline_of(evaluations, task, systems, baseline)
        for system in systems:
            if system == base:
                continue
            seeds = runs.paired_seeds(system, base)
            if not seeds:
                log.warning("%s: %s and %s share no seed label; not compared", task, system, base)
                continue
            if len(seeds) < 2:
                log.warning("%s: %s vs %s has 1 paired seed: not testable by the crossed model (McNemar per seed "
                            "only); verdict inconclusive", task, system, base)
            out.append(Comparison(task, system, base, tuple(seeds), runs.matrix(system, seeds),
                                  runs.matrix(base, seeds), _family(family, evaluations, task, system)))
    if not out and any(len(runs.systems()) > 1 for runs in tasks.values()):
        raise DataError("compare: no system shares a seed label with the baseline; seeds are paired by label "
                        "(seed 0 with seed 0): relabel the replicates 0, 1, 2, ... in every system")
    if out and all(len(c.seeds) < 2 for c in out):
        raise single_seed_error("compare")
    return out


def _design(evaluations: Evaluations, members: list[Comparison]) -> SequentialDesign | None:
    designs = {evaluations.designs.get(c.task) for c in members}
    if len(designs) > 1:
        raise ConfigError(f"family {members[0].family!r} mixes tasks run under different sequential designs; "
                          "use --family task")
    return designs.pop()


def verdict_table(evaluations: Evaluations, comps: list[Comparison], settings: AnalysisSettings) -> pd.DataFrame:
    """One row per comparison, columns :data:`VERDICT_COLUMNS`, sorted by task and system."""
    families: dict[str, list[Comparison]] = defaultdict(list)
    for comp in comps:
        families[comp.family].append(comp)
    rows = []
    for name, members in sorted(families.items()):
        tests = family_tests([(c.correct_system, c.correct_baseline) for c in members], [c.task for c in members],
                             settings, _design(evaluations, members))
        gains = []
        for comp, test in zip(members, tests, strict=True):
            acc_s = stats.accuracies_from_correct(comp.correct_system)
            acc_b = stats.accuracies_from_correct(comp.correct_baseline)
            gains.append(stats.transfer_gain(acc_s, acc_b))
            rows.append({
                "task": comp.task, "system": comp.system, "baseline": comp.baseline, "n_seeds": len(comp.seeds),
                "n_examples": comp.correct_system.shape[1], "system_accuracy": float(np.mean(acc_s)),
                "baseline_accuracy": float(np.mean(acc_b)), "gain": gains[-1], "ci_low": test.ci_low,
                "ci_high": test.ci_high, "se": test.se, "df": test.df, "p_value": test.p_value,
                "p_equivalence": test.p_tost, "margin": settings.margin, "mde": test.mde,
                "seeds_to_decide": test.seeds_to_decide, "family": name, "correction": settings.correction,
                "alpha": settings.alpha})
        p_adj, q_adj, verdict = family_verdicts(gains, [t.p_value for t in tests], [t.p_tost for t in tests],
                                                settings)
        for row, p, q, v in zip(rows[-len(members):], p_adj, q_adj, verdict, strict=True):
            row.update(p_adj=float(p), p_equivalence_adj=float(q), verdict=str(v))
    table = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    table["seeds_to_decide"] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                                         for v in table["seeds_to_decide"]], dtype="Int64")
    return table.sort_values(["task", "system"], kind="stable").reset_index(drop=True)
