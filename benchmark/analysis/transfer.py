"""The transfer matrix and ``significance.csv``: every method compared with ``target_only``,
pair by pair, tested within one family per (suite, method).

Families: the pairs of one method at one target budget in one suite (the reference
baselines ``scratch`` and ``linear_probe`` are methods too, so each is its own family). Nothing in a family depends
on another method's runs, so adding or removing a method never changes another method's
numbers. Within a family the verdict test is the moderated crossed t test of
:func:`~benchmark.analysis.stats.crossed_family_test` (seed variance shared among the
family's pairs on the same target, empirical Bayes), its TOST gives equivalence, and both are adjusted with the
correction. Under a sequential design (``run --until-decided``) both p-values are the
sequential ones, valid under optional stopping.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from benchmark.analysis import stats
from benchmark.analysis.collect import RunResults, aligned
from benchmark.analysis.schema import (
    MISSING,
    SIGNIFICANCE,
    TEST_CROSSED,
    TEST_EQUIVALENCE,
    TRANSFER,
    sort_rows,
)
from benchmark.analysis.significance import PAIRED_TESTS, PairSample, Row
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.analysis.stats.settings import AnalysisSettings
from benchmark.runs.groups import SOURCE_SEPARATOR
from benchmark.runs.store import NO_SOURCE, PairKey, RunId, control_of

log = logging.getLogger(__name__)



def comparisons(store: RunResults) -> list[PairKey]:
    """Every pair compared with its suite's reference, sorted."""
    return sorted(p for p in store.groups if not (p.method == store.roles_of(p.suite).reference
                                                  and p.source == NO_SOURCE))


def family_name(suite: str, method: str, budget: int, test: str, source: str = NO_SOURCE, target: str = "") -> str:
    """``<suite>/<method>/budget=<b>/<test>``: a method's pairs at one target budget (each
    budget asks its own question, and its seed variance differs). A method's controls of one
    direction are a family of their own, ``<suite>/<method>/budget=<b>/<direction>-control/<test>``,
    and so are its many -> one groups (source ``a+b``), ``.../groups/<test>``, and its merge-all
    groups (the source set holds the target), ``.../merge-all/<test>``, so none of them ever
    changes its real pairs' p."""
    base = f"{suite}/{method}/budget={int(budget)}"
    control = control_of(source)
    if control:
        return f"{base}/{control}-control/{test}"
    if is_merge_all(source, target):
        return f"{base}/merge-all/{test}"
    return f"{base}/groups/{test}" if is_source_set(source) else f"{base}/{test}"


def is_merge_all(source: str, target: str) -> bool:
    """Whether a row is a merge-all group's: its source set holds its target."""
    return is_source_set(source) and target in source.split(SOURCE_SEPARATOR)


def merge_all_rows(table: pd.DataFrame) -> pd.Series:
    """Boolean mask of a table's merge-all rows (:func:`is_merge_all` of ``source`` and ``target``)."""
    return pd.Series([is_merge_all(str(s), str(t)) for s, t in zip(table["source"], table["target"], strict=True)],
                     index=table.index, dtype=bool)


def is_source_set(source: str) -> bool:
    """Whether ``source`` names a group's K >= 2 sources (``a+b``), not one task."""
    return SOURCE_SEPARATOR in source


def _pair_sample(store: RunResults, comp: PairKey, row: Row) -> PairSample | None:
    """The pair's paired correctness, or None when nothing can be compared (``row`` gets the counts)."""
    suite, method, source, target, budget = comp.suite, comp.method, comp.source, comp.target, comp.budget
    reference = store.roles_of(suite).reference
    m_status = store.seed_status(comp)
    r_status = store.seed_status(comp.with_method(reference))
    # The comparison's seeds are the method's (planned or found); each needs its own run and
    # the reference run of the same seed. Extra reference seeds are not counted.
    seeds = sorted(m_status)
    both = [m_status[s] for s in seeds] + [r_status.get(s, MISSING) for s in seeds]
    row.update(n_failed=both.count("failed"), n_missing=both.count(MISSING), n_seeds=0, n_examples=0)
    paired = paired_correctness(store, comp, comp.with_method(reference))
    if paired is None:
        return None
    return PairSample(suite, method, source, target, budget, *paired)


def paired_correctness(store: RunResults, system: PairKey, reference: PairKey) -> tuple[
        tuple[int, ...], npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """(seeds, correct_system (S, N), correct_reference (S, N)) over the S seeds where both keys'
    runs are ok, examples aligned by id; None without such a seed or with fewer than 2 shared
    examples (logged)."""
    ok_sys, ok_ref = store.seed_status(system), store.seed_status(reference)
    seeds = tuple(s for s in sorted(ok_sys) if ok_sys[s] == "ok" and ok_ref.get(s) == "ok")
    if not seeds:
        return None
    runs = [store.data[RunId(k.suite, k.target, k.method, k.source, k.budget, s)]
            for k in (system, reference) for s in seeds]
    where = f"{system.suite}/{system.target}/{system.method}/{system.source}/budget={system.budget}"
    what = reference.method if reference.source == NO_SOURCE else f"{reference.method}/{reference.source}"
    _, matrix = aligned(runs, f"{where} vs {what}")
    if matrix.shape[1] < 2:
        log.warning("%s: fewer than 2 test examples shared with %s; pair left missing", where, what)
        return None
    return seeds, matrix[: len(seeds)], matrix[len(seeds):]


def seed_variance_sources(targets: list[str], tests: list[stats.PairTest],
                          pooling: str = stats.DEFAULT_POOLING) -> list[str]:
    """Per pair of one family: ``own`` when its seed variance is its own seeds' alone, else
    ``<k> pairs on <targets>``, the pairs its prior was fitted to (the rule of
    :func:`~benchmark.analysis.stats.crossed_family_test`: a pair borrows when the prior's df is at
    least its own seed df; the prior is fitted to the testable pairs on its target, or on every
    target with ``pooling="family"``)."""
    out = []
    for target, test in zip(targets, tests, strict=True):
        if not (test.n_seeds >= 2 and test.prior_df > 0 and test.prior_df >= test.n_seeds - 1):
            out.append("own" if test.n_seeds >= 2 else "")
            continue
        pool = [t for t, other in zip(targets, tests, strict=True)
                if other.n_seeds >= 2 and (pooling == "family" or t == target)]
        out.append(f"{len(pool)} pairs on {', '.join(sorted(set(pool)))}")
    return out


def family_tests(pairs: Sequence[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]], groups: Sequence[str],
                 settings: AnalysisSettings, design: SequentialDesign | None) -> list[stats.PairTest]:
    """The verdict test of one family (the leaderboard's and ``compare``'s one code path).

    Shapes: pairs[j] = (correct_system (S_j, N_j), correct_reference (S_j, N_j)); groups[j]
    names the reference runs pair j shares (its target): the moderated crossed t test of
    :func:`~benchmark.analysis.stats.crossed_family_test` with MDE and seeds-to-decide at the
    Bonferroni threshold alpha / m.
    """
    return stats.crossed_family_test(pairs, margin=settings.margin, threshold_alpha=settings.alpha / len(pairs),
                                     design=design, groups=list(groups))


def family_verdicts(gains: npt.ArrayLike, p_values: npt.ArrayLike, p_equivalence: npt.ArrayLike,
                    settings: AnalysisSettings) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                                         npt.NDArray[np.str_]]:
    """(p_adj, p_equivalence_adj, verdict) of one family's pairs, shapes (m,): both p-values
    adjusted within the family by ``settings.correction``, then the verdict rule of
    :func:`~benchmark.analysis.stats.verdicts` at ``settings.alpha``."""
    p_adj = stats.adjust_pvalues(np.asarray(p_values, dtype=float), settings.correction)
    q_adj = stats.adjust_pvalues(np.asarray(p_equivalence, dtype=float), settings.correction)
    return p_adj, q_adj, stats.verdicts(np.asarray(gains, dtype=float), p_adj, settings.alpha, q_adj)


def transfer_and_significance(
    store: RunResults, settings: AnalysisSettings, designs: Mapping[str, SequentialDesign],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[PairKey, PairSample]]:
    """(transfer matrix, significance rows, the paired correctness of every tested pair)."""
    rows: dict[PairKey, Row] = {}
    samples: dict[PairKey, PairSample] = {}
    for comp in comparisons(store):
        suite, method, source, target, budget = comp.suite, comp.method, comp.source, comp.target, comp.budget
        rows[comp] = {"suite": suite, "method": method, "source": source, "control": control_of(source),
                      "target": target, "budget": budget, "correction": settings.correction,
                      "alpha": settings.alpha, "margin": settings.margin,
                      "family": family_name(suite, method, budget, TEST_CROSSED, source, target)}
        sample = _pair_sample(store, comp, rows[comp])
        if sample is not None:
            samples[comp] = sample
    families: dict[str, list[PairKey]] = defaultdict(list)
    for comp in samples:
        families[family_name(comp.suite, comp.method, comp.budget, TEST_CROSSED, comp.source, comp.target)].append(comp)
    sig_rows: list[Row] = []
    for _family, members in sorted(families.items()):
        suite = members[0].suite
        tests = family_tests([(samples[c].correct_method, samples[c].correct_ref) for c in members],
                             [c.target for c in members], settings, designs.get(suite))
        lenders = seed_variance_sources([c.target for c in members], tests)
        for comp, test, lender in zip(members, tests, lenders, strict=True):
            sample = samples[comp]
            acc_m = stats.accuracies_from_correct(sample.correct_method)
            acc_r = stats.accuracies_from_correct(sample.correct_ref)
            gain = stats.transfer_gain(acc_m, acc_r)
            ref = float(np.mean(acc_r))
            rows[comp].update(
                n_seeds=len(sample.seeds), n_examples=sample.n_examples,
                method_accuracy=float(np.mean(acc_m)), reference_accuracy=ref, gain=gain,
                relative_gain=gain / ref if ref > 0 else math.nan, se=test.se, df=test.df,
                ci_low=test.ci_low, ci_high=test.ci_high, p_value=test.p_value, p_equivalence=test.p_tost,
                mde=test.mde, seeds_to_decide=test.seeds_to_decide, ntg=stats.negative_transfer_gap(gain),
                seed_sd=math.sqrt(test.seed_var) if test.seed_var >= 0 else math.nan, seed_sd_from=lender)
            sig_rows.append(sample.row(TEST_CROSSED, statistic=test.statistic, df=test.df, p_value=test.p_value))
            sig_rows.append(sample.row(TEST_EQUIVALENCE, statistic=gain, df=test.df, p_value=test.p_tost))
            for _name, paired_test in PAIRED_TESTS:
                sig_rows.extend(paired_test(sample))

    sig = SIGNIFICANCE.frame([{**r, "correction": settings.correction} for r in sig_rows])
    sig["family"] = [family_name(s, m, b, t, src, tgt) for s, m, b, t, src, tgt
                     in zip(sig["suite"], sig["method"], sig["budget"], sig["test"], sig["source"], sig["target"],
                            strict=True)]
    sig["p_adj"] = np.nan
    for _family, index in sig.groupby("family", sort=True).groups.items():
        sig.loc[index, "p_adj"] = stats.adjust_pvalues(sig.loc[index, "p_value"].to_numpy(dtype=float),
                                                       settings.correction)
    # Derived columns see the final family and p_adj.
    sig = sort_rows(SIGNIFICANCE.frame(sig), ["suite", "method", "source", "target", "budget", "test", "seed"],
                    SIGNIFICANCE)

    transfer = TRANSFER.frame(list(rows.values()))
    by_pair = sig.set_index(["suite", "method", "source", "target", "budget", "test"])["p_adj"]
    keys = list(zip(transfer["suite"], transfer["method"], transfer["source"], transfer["target"],
                    transfer["budget"], strict=True))
    transfer["p_adj"] = [float(by_pair.get((*k, TEST_CROSSED), math.nan)) for k in keys]
    transfer["p_equivalence_adj"] = [float(by_pair.get((*k, TEST_EQUIVALENCE), math.nan)) for k in keys]
    tested = transfer["n_seeds"].to_numpy() > 0
    verdict = np.full(len(transfer), MISSING, dtype=object)
    if tested.any():
        verdict[tested] = stats.verdicts(
            transfer.loc[tested, "gain"].to_numpy(dtype=float), transfer.loc[tested, "p_adj"].to_numpy(dtype=float),
            settings.alpha, transfer.loc[tested, "p_equivalence_adj"].to_numpy(dtype=float))
    transfer["verdict"] = verdict
    # Derived columns see the final p_adj and verdict.
    transfer = sort_rows(TRANSFER.frame(transfer), ["suite", "method", "source", "target", "budget"], TRANSFER)
    return transfer, sig, samples
