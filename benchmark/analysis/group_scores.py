"""``group_scores.csv``: what each source of a many -> one group adds, with verdicts.

A group run fuses the K sources S into target T with one method. Its gain over
``target_only`` is a row of ``transfer_matrix.csv``. Here it is compared, by the same
moderated crossed t test and family rule, with the same method's runs on each smaller
source set R it was run with (same target, budget and seeds):

- R = S without one source s (leave-one-source-out): the gain is s's *contribution* to the
  group (for K = 2, R is the pair of the other source);
- R = one source, for K > 2: the gain over that single source.

The row against the single source whose run is most accurate is flagged ``best_single``: its
gain is "the group over the best single source". Choosing the reference by its observed
accuracy biases that gain down (the best-looking pair is partly lucky), so a ``positive``
there is conservative and a ``negative`` is not; the rows against every source are kept, so
nothing is hidden. Families: per (suite, method, budget), ``.../leave-one-out/crossed_t``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.collect import RunResults
from benchmark.analysis.schema import GROUP_SCORES, MISSING, sort_rows
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import AnalysisSettings
from benchmark.analysis.transfer import family_tests, family_verdicts, is_merge_all, is_source_set, paired_correctness
from benchmark.runs.groups import source_set, split_source_set
from benchmark.runs.store import PairKey

FAMILY_TEST = "leave-one-out/crossed_t"


def group_family(suite: str, method: str, budget: int) -> str:
    """``<suite>/<method>/budget=<b>/leave-one-out/crossed_t``."""
    return f"{suite}/{method}/budget={int(budget)}/{FAMILY_TEST}"


def _references(store: RunResults, group: PairKey) -> list[PairKey]:
    """The same method's keys on the group's smaller source sets that exist: each K - 1 subset,
    then (K > 2) each single source."""
    sources = split_source_set(group.source)
    subsets = [tuple(s for s in sources if s != dropped) for dropped in sources]
    if len(sources) > 2:
        subsets += [(s,) for s in sources]
    keys = [PairKey(group.suite, group.method, source_set(sub), group.target, group.budget) for sub in subsets]
    return [k for k in keys if k in store.groups]


def group_scores_table(store: RunResults, settings: AnalysisSettings,
                       designs: dict[str, SequentialDesign]) -> pd.DataFrame:
    """One row per (group run key, smaller source set it was compared with); see the module doc."""
    rows: list[dict[str, object]] = []
    tested: dict[str, list[tuple[dict[str, object], np.ndarray, np.ndarray]]] = defaultdict(list)
    for group in sorted(k for k in store.groups if is_source_set(k.source) and not is_merge_all(k.source, k.target)):
        references = _references(store, group)
        single = [r for r in references if not is_source_set(r.source)]
        accuracy: dict[PairKey, float] = {}
        mine: list[dict[str, object]] = []
        for reference in references:
            sources, kept = split_source_set(group.source), split_source_set(reference.source)
            row: dict[str, object] = {
                "suite": group.suite, "method": group.method, "target": group.target, "budget": group.budget,
                "sources": group.source, "reference_sources": reference.source,
                "dropped": source_set([s for s in sources if s not in kept]),
                "leave_one_out": len(kept) == len(sources) - 1, "best_single": False,
                "n_seeds": 0, "n_examples": 0, "verdict": MISSING,
                "family": group_family(group.suite, group.method, group.budget),
                "correction": settings.correction, "alpha": settings.alpha, "margin": settings.margin}
            mine.append(row)
            paired = paired_correctness(store, group, reference)
            if paired is None:
                continue
            seeds, correct_sys, correct_ref = paired
            acc_sys = stats.accuracies_from_correct(correct_sys)
            acc_ref = stats.accuracies_from_correct(correct_ref)
            accuracy[reference] = float(np.mean(acc_ref))
            row.update(n_seeds=len(seeds), n_examples=int(correct_sys.shape[1]),
                       group_accuracy=float(np.mean(acc_sys)), reference_accuracy=float(np.mean(acc_ref)),
                       gain=stats.transfer_gain(acc_sys, acc_ref))
            tested[str(row["family"])].append((row, correct_sys, correct_ref))
        scored = [r for r in single if r in accuracy]
        if scored:
            best = max(scored, key=lambda r: (accuracy[r], r.source))
            for row in mine:
                row["best_single"] = row["reference_sources"] == best.source
        rows.extend(mine)
    for members in tested.values():
        suite = str(members[0][0]["suite"])
        tests = family_tests([(m[1], m[2]) for m in members], [str(m[0]["target"]) for m in members],
                             settings, designs.get(suite))
        p_adj, q_adj, verdicts = family_verdicts([t.estimate for t in tests], [t.p_value for t in tests],
                                                 [t.p_tost for t in tests], settings)
        for (row, _, _), test, p, q, verdict in zip(members, tests, p_adj, q_adj, verdicts, strict=True):
            row.update(se=test.se, df=test.df, ci_low=test.ci_low, ci_high=test.ci_high, p_value=test.p_value,
                       p_adj=float(p), p_equivalence=test.p_tost, p_equivalence_adj=float(q), mde=test.mde,
                       seeds_to_decide=test.seeds_to_decide,
                       verdict=str(verdict))
    return sort_rows(GROUP_SCORES.frame(rows), ["suite", "method", "target", "sources", "budget",
                                                "reference_sources"], GROUP_SCORES)
