"""``compare`` on real sources: the lm-evaluation-harness CLI run offline, and this benchmark's
own smoke suite (the same numbers as its ``transfer_matrix``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.analysis.compare import compare_files
from benchmark.analysis.leaderboard import compute_leaderboards
from benchmark.analysis.stats.sequential import SequentialDesign
from benchmark.cli import main
from benchmark.runs.store import load_roles, load_sequential_designs, scan_runs, suites

SEEDS = (0, 1, 2)
N_DOCS = 80


def _lm_eval() -> str:
    exe = shutil.which("lm_eval") or str(Path(sys.executable).with_name("lm_eval"))
    if not Path(exe).is_file():
        pytest.skip("lm-eval is not installed (pip install lm-eval)")
    return exe


def _task(folder: Path, data: Path, choices: str) -> Path:
    """A local multiple-choice task ``toy_parity`` (the same name and documents in both configurations)."""
    folder.mkdir(parents=True)
    (folder / "toy.yaml").write_text(
        "task: toy_parity\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "{{question}}"\n'
        f'doc_to_choice: "{choices}"\n'
        "doc_to_target: label\nmetric_list:\n  - metric: acc\n")
    return folder


@pytest.mark.slow
def test_lm_eval_cli_folders_to_verdicts(tmp_path: Path) -> None:
    exe = _lm_eval()
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"question": f"Is {i} even?", "choices": ["yes", "no"], "label": i % 2}) + "\n"
                            for i in range(N_DOCS)))
    # Two configurations of one task: the answer options alone, and with a never-right third option.
    configs = {"two_options": _task(tmp_path / "t2", data, "{{choices}}"),
               "three_options": _task(tmp_path / "t3", data, "{{choices + ['maybe']}}")}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    for name, include in configs.items():
        for seed in SEEDS:
            out = tmp_path / "runs" / name / f"seed{seed}"
            subprocess.run([exe, "--model", "dummy", "--tasks", "toy_parity", "--include_path", str(include),
                            "--log_samples", "--output_path", str(out), "--seed", str(seed)],
                           check=True, env=env, capture_output=True, timeout=300)
    result = compare_files("lm-eval", [f"{n}={tmp_path / 'runs' / n}" for n in configs], baseline="two_options",
                           out_dir=tmp_path / "compare")
    # The per-example join: every (system, seed) row of the test equals lm-eval's own per-sample acc.
    from benchmark.analysis.compare.registry import read

    frame = read("lm-eval", [f"{n}={tmp_path / 'runs' / n}" for n in configs]).frame
    for name in configs:
        for seed in SEEDS:
            [samples] = (tmp_path / "runs" / name / f"seed{seed}").rglob("samples_toy_parity_*.jsonl")
            own = {json.loads(line)["doc_id"]: json.loads(line)["acc"] for line in samples.read_text().splitlines()}
            rows = frame[(frame["system"] == name) & (frame["seed"] == seed)].set_index("example_id")
            assert len(rows) == N_DOCS and all(rows.loc[str(d), "correct"] == bool(a) for d, a in own.items())
            [results] = (tmp_path / "runs" / name / f"seed{seed}").rglob("results_*.json")
            assert rows["correct"].mean() == pytest.approx(json.loads(results.read_text())["results"]["toy_parity"]
                                                           ["acc,none"])
    [row] = result.verdicts.to_dict("records")
    assert row["system"] == "three_options" and row["n_seeds"] == 3 and row["n_examples"] == N_DOCS
    acc = frame.groupby(["system"])["correct"].mean()
    assert row["gain"] == pytest.approx(acc["three_options"] - acc["two_options"], abs=1e-12)
    assert np.isfinite(row["p_value"]) and row["verdict"] in {"negative", "inconclusive"}
    assert set(result.ranking["system"]) == set(configs)
    assert (tmp_path / "compare/report/index.html").is_file()


def test_compare_reproduces_the_smoke_transfer_matrix(smoke_results: Path, tmp_path: Path) -> None:
    designs = {s: SequentialDesign(d["first_seeds"], d["max_seeds"], tuple(d["weights"]))
               for s, d in load_sequential_designs(smoke_results).items()}
    board = compute_leaderboards(scan_runs(smoke_results), designs=designs, n_resamples=10,
                                 roles={s: load_roles(smoke_results, s) for s in suites(smoke_results)})
    expected = board.transfer_matrix[board.transfer_matrix["n_seeds"] > 0].copy()
    expected["task"] = [f"{s}/{t}/budget={b}" for s, t, b in zip(expected["suite"], expected["target"],
                                                                  expected["budget"], strict=True)]
    expected["system"] = [m if s == "-" else f"{m}@{s}" for m, s in zip(expected["method"], expected["source"],
                                                                        strict=True)]
    got = compare_files("benchmark", [str(smoke_results)]).verdicts
    joined = expected.merge(got, on=["task", "system"], how="outer", suffixes=("_lb", ""), indicator=True)
    assert (joined["_merge"] == "both").all() and len(joined) == len(expected) > 0
    for column in ("gain", "p_value", "p_adj", "p_equivalence", "p_equivalence_adj", "ci_low", "ci_high", "mde"):
        np.testing.assert_allclose(joined[column], joined[f"{column}_lb"], rtol=0, atol=1e-12, err_msg=column)
    assert list(joined["verdict"]) == list(joined["verdict_lb"])
    assert list(joined["family"]) == list(joined["family_lb"])
    # The CLI, once: the same verdicts.
    assert main(["compare", str(smoke_results), "--from", "benchmark", "--out", str(tmp_path / "c")]) == 0
    written = pd.read_csv(tmp_path / "c/verdicts.csv")
    assert written.set_index(["task", "system"])["verdict"].to_dict() == got.set_index(["task", "system"])[
        "verdict"].to_dict()
