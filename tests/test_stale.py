"""Results cannot go stale: a run's key covers the content of its data, inputs included.

The data is a TINY GENERATED CSV (240 rows, ``id,text,label``) declared as a YAML task: the
label is written in the text, so a model learns it; then every text is replaced by the same
sentence under the same ids and labels, which no model can beat chance on. Training is real
(MiniLM, one seed, ``target_only``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # trains real models in subprocesses

REPO = Path(__file__).resolve().parents[1]
SUITE = """\
name: stale
tasks: [data/words.yaml]
pairs: []
seeds: [0]
methods: [target_only]
protocols:
  text:
    backbone: minilm-l6
    trainable: top-1
    tokens: 16
    precision: fp32
    budgets: {train: 160, validation: 40, test: 40, source_train: 160}
    train: {max_epochs: 3, patience: 1, batch_size: 16, lr: 5.0e-4, head_lr: 5.0e-3}
"""


def _csv(path: Path, texts: list[str]) -> None:
    labels = [i % 2 for i in range(len(texts))]
    pd.DataFrame({"id": [f"w{i}" for i in range(len(texts))], "text": texts, "label": labels}).to_csv(path, index=False)


def _run(suite: Path, results: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "benchmark", "run", "--suite", str(suite), "--results", str(results)],
                          cwd=REPO, env=env, capture_output=True, text=True)


def test_editing_a_yaml_tasks_texts_reruns_its_runs_and_changes_the_leaderboard(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "words.yaml").write_text(textwrap.dedent("""\
        name: words
        kind: text
        format: csv
        file: words.csv
        label_names: [cold, warm]
        """))
    n = 240
    _csv(data / "words.csv", [("it is warm and sunny" if i % 2 else "it is cold and icy") + f" {i}" for i in range(n)])
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    results, cache = tmp_path / "results", tmp_path / "cache"
    first = _run(suite, results, cache)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "1 runs: 1 ran" in first.stdout
    learned = float(pd.read_csv(results / "leaderboards/per_task.csv")["accuracy_mean"].iloc[0])
    assert learned > 0.9
    # The run records its task's declaration and data file, with their SHA-256.
    (record,) = [json.loads(p.read_text()) for p in (results / "runs").rglob("run.json")]
    task = record["plugins"]["tasks"]["words"]
    assert task["file"] == str((data / "words.yaml").resolve())
    assert task["data"] == [{"file": str((data / "words.csv").resolve()),
                             "sha256": hashlib.sha256((data / "words.csv").read_bytes()).hexdigest()}]
    # Same ids, same labels, every text the same sentence: new data, so the run is redone.
    _csv(data / "words.csv", ["the weather today"] * n)
    second = _run(suite, results, cache)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "1 runs: 1 ran, 0 already done" in second.stdout
    chance = float(pd.read_csv(results / "leaderboards/per_task.csv")["accuracy_mean"].iloc[0])
    assert chance <= 0.65  # 40 balanced test examples, identical inputs: one class for all
    # Unchanged data: nothing to do.
    third = _run(suite, results, cache)
    assert "1 runs: 0 ran, 1 already done" in third.stdout
