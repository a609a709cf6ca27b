"""``group_scores.csv`` and the group rows of the other leaderboards, on *generated* runs
(tests/run_store_helpers.py: the run-store format with synthesised correctness; nothing here
is a real result). Real group runs are exercised in tests/test_group_runs.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_store_helpers import example_ids, read_csv, simulate_correct, write_plan, write_run

from benchmark.analysis.leaderboard import build_leaderboards
from benchmark.analysis.stats.settings import DEFAULTS
from benchmark.analysis.transfer import family_tests, family_verdicts

SUITE, SEEDS, N = "grp", (0, 1, 2, 3, 4), 400
# (method, source) -> accuracy shift on both targets: a helps, b does nothing, the group adds a's help.
SHIFTS = {("target_only", "-"): 0.0, ("ties", "a"): 0.25, ("ties", "b"): 0.0, ("ties", "a+b"): 0.25,
          ("ties", "a+b+c"): 0.25, ("ties", "c"): 0.0, ("ties", "a+c"): 0.25, ("ties", "b+c"): -0.05,
          ("linear_probe", "-"): -0.1}
# A merge-all group of the two targets: the merged model loses 20 points on t1 and nothing on t2.
MERGED = {"t1": -0.20, "t2": 0.0}


def _results(tmp_path: Path) -> tuple[Path, dict[tuple[str, str, str], np.ndarray]]:
    rng = np.random.default_rng(7)
    ids = example_ids(N)
    correct: dict[tuple[str, str, str], np.ndarray] = {}
    runs = []
    for target in ("t1", "t2"):
        difficulty = rng.uniform(0.3, 0.8, N)
        for (method, source), shift in SHIFTS.items():
            if target == "t2" and source.count("+") == 2:
                continue  # the K = 3 group only on t1
            matrix = simulate_correct(rng, difficulty, shift, len(SEEDS))
            correct[(target, method, source)] = matrix
            for s, seed in enumerate(SEEDS):
                write_run(tmp_path, suite=SUITE, target=target, method=method,
                          source=None if source == "-" else source, seed=seed, correct=matrix[s], ids=ids)
                runs.append((target, method, None if source == "-" else source, seed))
        matrix = simulate_correct(rng, difficulty, MERGED[target], len(SEEDS))
        correct[(target, "ties", "t1+t2")] = matrix
        for s, seed in enumerate(SEEDS):
            write_run(tmp_path, suite=SUITE, target=target, method="ties", source="t1+t2", seed=seed,
                      correct=matrix[s], ids=ids)
            runs.append((target, "ties", "t1+t2", seed))
    write_plan(tmp_path, SUITE, runs)
    return tmp_path, correct


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str, str], np.ndarray]]:
    results, correct = _results(tmp_path_factory.mktemp("groups"))
    build_leaderboards(results, n_resamples=200)
    return results, correct


def test_group_scores_compare_each_group_with_its_smaller_source_sets(built: tuple[Path, dict]) -> None:
    results, correct = built
    scores = read_csv(results / "leaderboards/group_scores.csv")
    t1 = scores[(scores["target"] == "t1") & (scores["sources"] == "a+b")].set_index("reference_sources")
    # K = 2: the leave-one-out sets are the pairs; dropping b leaves a.
    assert sorted(t1.index) == ["a", "b"]
    assert t1.loc["a", "dropped"] == "b" and t1.loc["b", "dropped"] == "a"
    assert bool(t1.loc["a", "leave_one_out"]) and bool(t1.loc["b", "leave_one_out"])
    # best single source: the pair run with the higher accuracy (a, which helps).
    assert bool(t1.loc["a", "best_single"]) and not bool(t1.loc["b", "best_single"])
    # The gain is group minus the smaller set, paired by seed, by hand.
    by_hand = correct[("t1", "ties", "a+b")].mean() - correct[("t1", "ties", "a")].mean()
    assert t1.loc["a", "gain"] == pytest.approx(by_hand, abs=1e-6)
    # a's contribution: +25 points, where 5 seeds of 400 examples resolve about 10 (MDE)
    assert t1.loc["b", "verdict"] == "positive"
    # K = 3: three leave-one-out sets and three single sources.
    k3 = scores[scores["sources"] == "a+b+c"]
    assert sorted(k3["reference_sources"]) == ["a", "a+b", "a+c", "b", "b+c", "c"]
    assert k3["leave_one_out"].sum() == 3 and k3["best_single"].sum() == 1
    assert k3.loc[k3["best_single"], "reference_sources"].item() == "a"


def test_group_scores_are_the_family_test_of_their_rows(built: tuple[Path, dict]) -> None:
    """One code path: the CSV equals family_tests + family_verdicts on the same arrays."""
    results, correct = built
    scores = read_csv(results / "leaderboards/group_scores.csv")
    family = scores[scores["method"] == "ties"].sort_values(["target", "sources", "reference_sources"])
    assert family["family"].nunique() == 1 and family["family"].iloc[0] == "grp/ties/budget=100/leave-one-out/crossed_t"
    pairs = [(correct[(t, "ties", s)], correct[(t, "ties", r)])
             for t, s, r in zip(family["target"], family["sources"], family["reference_sources"], strict=True)]
    tests = family_tests(pairs, list(family["target"]), DEFAULTS, None)
    p_adj, _, verdicts = family_verdicts([t.estimate for t in tests], [t.p_value for t in tests],
                                         [t.p_tost for t in tests], DEFAULTS)
    np.testing.assert_allclose(family["p_value"], [t.p_value for t in tests], rtol=1e-5)
    np.testing.assert_allclose(family["p_adj"], p_adj, rtol=1e-5)
    assert list(family["verdict"]) == list(verdicts)


def test_groups_have_their_own_family_and_stay_out_of_the_ranking(built: tuple[Path, dict]) -> None:
    results, _ = built
    transfer = read_csv(results / "leaderboards/transfer_matrix.csv")
    ties = transfer[transfer["method"] == "ties"].set_index(["target", "source"])
    assert ties.loc[("t1", "a+b"), "family"] == "grp/ties/budget=100/groups/crossed_t"
    assert ties.loc[("t1", "a"), "family"] == "grp/ties/budget=100/crossed_t"
    leaderboard = read_csv(results / "leaderboards/leaderboard.csv")
    # ranked over its one-source pairs only: a, b, c into t1; a, b, c into t2 (c: both targets)
    assert leaderboard.set_index("method").loc["ties", "n_pairs"] == 6
    assert ties.loc[("t1", "t1+t2"), "family"] == "grp/ties/budget=100/merge-all/crossed_t"
    scores = read_csv(results / "leaderboards/group_scores.csv")
    assert "t1+t2" not in set(scores["sources"])  # a merge-all group has no leave-one-out here


def test_merge_all_table_reads_the_transfer_rows_with_expert_and_pretrained(built: tuple[Path, dict]) -> None:
    results, correct = built
    merged = read_csv(results / "leaderboards/merge_all.csv").set_index("task")
    transfer = read_csv(results / "leaderboards/transfer_matrix.csv").set_index(["method", "source", "target"])
    assert sorted(merged.index) == ["t1", "t2"] and set(merged["group"]) == {"t1+t2"}
    for task in ("t1", "t2"):
        row, tm = merged.loc[task], transfer.loc[("ties", "t1+t2", task)]
        assert row["merged_accuracy"] == pytest.approx(correct[(task, "ties", "t1+t2")].mean(), abs=1e-6)
        assert row["expert_accuracy"] == pytest.approx(correct[(task, "target_only", "-")].mean(), abs=1e-6)
        assert row["pretrained_accuracy"] == pytest.approx(correct[(task, "linear_probe", "-")].mean(), abs=1e-6)
        assert row["normalized_accuracy"] == pytest.approx(row["merged_accuracy"] / row["expert_accuracy"], rel=1e-5)
        assert row["normalized_ci_low"] == pytest.approx(1 + tm["ci_low"] / row["expert_accuracy"], rel=1e-5)
        assert row["verdict"] == tm["verdict"] and row["p_adj"] == pytest.approx(tm["p_adj"], rel=1e-5)
    assert merged.loc["t1", "reading"] == "interference"  # -20 points, 5 seeds of 400 examples
    assert merged.loc["t1", "normalized_ci_high"] < 1
    negative = read_csv(results / "leaderboards/negative_transfer.csv")
    assert "t1+t2" not in set(negative["source"])  # interference is reported in merge_all.csv


def test_adding_groups_changes_no_pair_verdict(tmp_path: Path, built: tuple[Path, dict]) -> None:
    results, _ = built
    pairs_only = tmp_path / "pairs"
    for run in (results / "runs").rglob("run.json"):
        if "+" in str(run.parent.parent.parent.name):
            continue
        target = pairs_only / run.parent.relative_to(results)
        target.mkdir(parents=True)
        for f in run.parent.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
    build_leaderboards(pairs_only, n_resamples=200)
    cols = ["method", "source", "target", "p_value", "p_adj", "verdict"]
    full = read_csv(results / "leaderboards/transfer_matrix.csv")
    full = full[~full["source"].str.contains("+", regex=False)][cols].reset_index(drop=True)
    alone = read_csv(pairs_only / "leaderboards/transfer_matrix.csv")[cols]
    pd.testing.assert_frame_equal(full, alone)
    assert len(read_csv(pairs_only / "leaderboards/group_scores.csv")) == 0


def test_the_report_shows_the_group_tables(built: tuple[Path, dict]) -> None:
    from benchmark.analysis.report import build_report

    results, _ = built
    build_report(results)
    page = (results / "report/index.md").read_text(encoding="utf-8")
    assert "### Merging K task models into one" in page and "### Many sources into one target" in page
    merged = read_csv(results / "leaderboards/merge_all.csv").set_index("task")
    expert_row = next(line for line in page.splitlines() if line.startswith("| expert (target_only)"))
    assert f"{merged.loc['t1', 'expert_accuracy'] * 100:.1f}" in expert_row
    ties_row = next(line for line in page.splitlines() if line.startswith("| ties |") and "▼" in line)
    assert f"{merged.loc['t1', 'merged_accuracy'] * 100:.1f} ▼" in ties_row  # t1: interference
    assert "Best merge here: ties" in page
