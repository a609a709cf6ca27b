"""``compare``: input checks, one code path with the leaderboard's statistics, rank intervals,
the importers and the CLI (the lm-eval CLI and the smoke suite: tests/test_compare_sources.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.analysis import stats
from benchmark.analysis.compare import Evaluations, compare, compare_files
from benchmark.analysis.compare.evaluations import tidy
from benchmark.analysis.compare.ranking import rank_intervals
from benchmark.analysis.compare.registry import read
from benchmark.analysis.stats.simulate import crossed_correctness
from benchmark.cli import main
from benchmark.errors import BenchmarkError, DataError, UnknownNameError


def _frame(systems: dict[str, np.ndarray], task: str = "t") -> pd.DataFrame:
    """Tidy rows from system -> correctness (S, N)."""
    rows = []
    for system, correct in systems.items():
        for s in range(correct.shape[0]):
            for i in range(correct.shape[1]):
                rows.append({"system": system, "seed": s, "task": task, "example_id": f"e{i:03d}",
                             "correct": int(correct[s, i])})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def three_systems() -> dict[str, np.ndarray]:
    methods, ref = crossed_correctness(np.random.default_rng(1), 3, 400, gain=[0.0, 0.15], n_methods=2)
    return {"base": ref, "same": methods[0], "better": methods[1]}


def test_verdicts_are_the_family_test_adjusted_and_judged(three_systems: dict[str, np.ndarray]) -> None:
    out = compare(Evaluations(tidy(_frame(three_systems), "test")), baseline="base").verdicts
    tests = stats.crossed_family_test([(three_systems["better"], three_systems["base"]),
                                       (three_systems["same"], three_systems["base"])],
                                      threshold_alpha=0.05 / 2, groups=["t", "t"])
    p_adj = stats.adjust_pvalues([t.p_value for t in tests], "bh")
    q_adj = stats.adjust_pvalues([t.p_tost for t in tests], "bh")
    gains = [three_systems[s].mean() - three_systems["base"].mean() for s in ("better", "same")]
    assert list(out["system"]) == ["better", "same"]
    np.testing.assert_array_equal(out["p_value"], [t.p_value for t in tests])
    np.testing.assert_array_equal(out["p_adj"], p_adj)
    np.testing.assert_array_equal(out["p_equivalence_adj"], q_adj)
    np.testing.assert_allclose(out["gain"], gains, rtol=0, atol=1e-15)
    assert list(out["verdict"]) == list(stats.verdicts(gains, p_adj, 0.05, q_adj))
    assert out.loc[0, "verdict"] == "positive" and set(out["family"]) == {"t"}


def test_family_by_system_spans_tasks(three_systems: dict[str, np.ndarray]) -> None:
    frame = pd.concat([_frame(three_systems, "a"), _frame(three_systems, "b")])
    out = compare(Evaluations(tidy(frame, "test")), baseline="base", family="system").verdicts
    assert sorted(set(out["family"])) == ["better", "same"] and len(out) == 4


def test_ranking_rank_intervals_hand_values() -> None:
    acc = np.array([0.9, 0.8, 0.79, 0.5])
    sep = np.zeros((4, 4), dtype=bool)
    for i, j in [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]:
        sep[i, j] = sep[j, i] = True
    rank, low, high = rank_intervals(acc, sep)
    assert rank.tolist() == [1, 2, 3, 4] and low.tolist() == [1, 2, 2, 4] and high.tolist() == [1, 3, 3, 4]


def test_ranking_ties_equal_systems(three_systems: dict[str, np.ndarray]) -> None:
    ranking = compare(Evaluations(tidy(_frame(three_systems), "test")), baseline="base").ranking.set_index("system")
    assert ranking.loc["better", "rank"] == 1 and ranking.loc["better", "rank_low"] == 1
    assert "same" in ranking.loc["base", "tied_with"].split(";")  # equal true accuracy: not separated


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="seed"), "missing column(s) seed"),
    (lambda f: pd.concat([f, f.iloc[:2]]), "2 duplicate (system, seed, task, example_id) rows"),
    (lambda f: f.assign(correct=f["correct"] * 0.5), "must be 0/1 for an accuracy test"),
    (lambda f: f[~((f["system"] == "same") & (f["seed"] == 1) & (f["example_id"] == "e007"))],
     "1 ids in one but not the other, e.g. 'e007'"),
])
def test_bad_input_is_one_line(three_systems: dict[str, np.ndarray], change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError) as err:
        compare(Evaluations(tidy(change(_frame(three_systems)), "in.csv")), baseline="base")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_single_seed_says_what_is_testable(three_systems: dict[str, np.ndarray]) -> None:
    frame = _frame({k: v[:1] for k, v in three_systems.items()})
    with pytest.raises(DataError, match="no comparison has >= 2 paired seeds.*McNemar"):
        compare(Evaluations(tidy(frame, "t")), baseline="base")


def test_a_single_seed_system_is_kept_untested(three_systems: dict[str, np.ndarray]) -> None:
    frame = _frame(three_systems)
    frame = frame[(frame["system"] != "same") | (frame["seed"] == 0)]
    out = compare(Evaluations(tidy(frame, "t")), baseline="base").verdicts.set_index("system")
    assert out.loc["same", "n_seeds"] == 1 and np.isnan(out.loc["same", "p_value"])
    assert out.loc["same", "verdict"] == "inconclusive" and out.loc["better", "verdict"] == "positive"


def test_unpaired_seed_labels_are_refused(three_systems: dict[str, np.ndarray]) -> None:
    frame = _frame(three_systems)
    frame.loc[frame["system"] != "base", "seed"] += 10
    with pytest.raises(DataError, match="no system shares a seed label with the baseline"):
        compare(Evaluations(tidy(frame, "t")), baseline="base")


def test_prediction_and_label_columns() -> None:
    frame = pd.DataFrame({"system": "a", "seed": 0, "task": "t", "example_id": [1, 2], "prediction": ["x", "y"],
                          "label": ["x", "x"]})
    assert tidy(frame, "t")["correct"].tolist() == [True, False]


def test_cli_tidy_parquet_and_jsonl(tmp_path: Path, three_systems: dict[str, np.ndarray],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    frame = _frame(three_systems)
    frame[frame["system"] != "better"].to_parquet(tmp_path / "a.parquet")
    frame[frame["system"] == "better"].to_json(tmp_path / "b.jsonl", orient="records", lines=True)
    code = main(["compare", str(tmp_path / "a.parquet"), str(tmp_path / "b.jsonl"), "--baseline", "base",
                 "--out", str(tmp_path / "out"), "--margin", "0.02"])
    assert code == 0 and "2 comparisons" in capsys.readouterr().out
    verdicts = pd.read_csv(tmp_path / "out/verdicts.csv")
    assert list(verdicts["margin"]) == [0.02, 0.02]
    assert (tmp_path / "out/report/index.html").is_file() and (tmp_path / "out/ranking.csv").is_file()
    assert "gain__t.png" in (tmp_path / "out/report/index.md").read_text()


def test_unknown_names_have_a_did_you_mean(tmp_path: Path, three_systems: dict[str, np.ndarray]) -> None:
    _frame(three_systems).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(UnknownNameError, match="Did you mean 'base'"):
        compare_files("tidy", [str(tmp_path / "r.csv")], baseline="bse")
    with pytest.raises(UnknownNameError, match="Did you mean 'lm-eval'"):
        compare_files("lm_eval", [str(tmp_path)])
    with pytest.raises(BenchmarkError, match="pass --baseline NAME"):
        compare_files("tidy", [str(tmp_path / "r.csv")])


# ----------------------------------------------------------------------- lm-eval sample files


def _write_lm_eval(folder: Path, seed: int, accs: list[float], metric: str = "acc") -> None:
    """A results + samples pair in the format of lm-eval 0.4 (lm_eval/loggers/evaluation_tracker.py)."""
    stamp = f"2026-01-0{seed + 1}T00-00-00.000000"
    run = folder / "model"
    run.mkdir(parents=True, exist_ok=True)
    (run / f"results_{stamp}.json").write_text(f'{{"config": {{"random_seed": {seed}}}, "results": {{}}}}')
    lines = [f'{{"doc_id": {i}, "doc_hash": "h{i}", "filter": "none", "metrics": ["{metric}"], "{metric}": {a}}}'
             for i, a in enumerate(accs)]
    (run / f"samples_toy_task_{stamp}.jsonl").write_text("\n".join(lines) + "\n")


def test_lm_eval_metric_errors_name_the_metrics_present(tmp_path: Path) -> None:
    for seed in (0, 1):
        _write_lm_eval(tmp_path / "a" / str(seed), seed, [1.0, 0.0, 1.0], metric="exact_match")
    with pytest.raises(DataError, match="metric 'acc' was not recorded per sample; metrics present: exact_match"):
        compare_files("lm-eval", [f"A={tmp_path / 'a'}"], options={"metric": "acc"})
    read_back = read("lm-eval", [f"A={tmp_path / 'a'}"]).frame  # default: the metric lm-eval recorded
    assert read_back["correct"].tolist() == [True, False, True] * 2 and set(read_back["seed"]) == {0, 1}


def test_lm_eval_non_binary_metric_is_refused(tmp_path: Path) -> None:
    for seed in (0, 1):
        _write_lm_eval(tmp_path / "a" / str(seed), seed, [0.5, 0.25, 1.0], metric="f1")
    with pytest.raises(DataError, match="must be 0/1 for an accuracy test"):
        compare_files("lm-eval", [f"A={tmp_path / 'a'}"])


# ----------------------------------------------------------------------- this benchmark's results


def test_compare_reproduces_the_toy_leaderboard(tmp_path: Path) -> None:
    """Failed, missing and single-seed pairs included: the leaderboard's numbers, exactly."""
    from benchmark.analysis.leaderboard import compute_leaderboards
    from benchmark.runs.store import load_roles, scan_runs, suites
    from tests.run_store_helpers import build_toy_results

    results = build_toy_results(tmp_path / "results")
    board = compute_leaderboards(scan_runs(results), n_resamples=10,
                                 roles={s: load_roles(results, s) for s in suites(results)}).transfer_matrix
    board = board[board["n_seeds"] > 0]
    got = compare_files("benchmark", [str(results)]).verdicts
    assert len(got) == len(board) > 0
    for row in board.to_dict("records"):
        system = row["method"] if row["source"] == "-" else f"{row['method']}@{row['source']}"
        [mine] = got[(got["task"] == f"{row['suite']}/{row['target']}/budget={row['budget']}")
                     & (got["system"] == system)].to_dict("records")
        for column in ("gain", "p_value", "p_adj", "p_equivalence_adj", "ci_low", "mde"):
            assert mine[column] == pytest.approx(row[column], abs=1e-12, nan_ok=True), (system, column)
        assert (mine["verdict"], mine["family"], mine["n_seeds"]) == (row["verdict"], row["family"], row["n_seeds"])
