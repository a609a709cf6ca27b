"""Suite files: the shipped ones, a user's own over YAML tasks, and the errors a bad one gets.

The NLI files written here are tiny *generated* stand-ins in the GLUE and SICK layouts (no
real NLI data ships with a package); they exercise the file formats and the pipeline, not
NLI learning (experiments/2026-11_text_pair_encoding.py measures that on the real SICK).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from benchmark.data.task import TASKS, Budget
from benchmark.errors import BenchmarkError
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.suite_yaml import load_suite_file

REPO = Path(__file__).resolve().parents[1]
SUBJECTS = ["a dog", "the man", "a woman", "two kids", "the cat", "a chef", "the band", "an old man"]
VERBS = ["is running", "is eating", "is sleeping", "is singing", "is cooking", "is reading"]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _pair(i: int) -> tuple[str, str, str]:
    """A generated premise/hypothesis with a label that follows from the words."""
    s, v = SUBJECTS[i % len(SUBJECTS)], VERBS[(i // len(SUBJECTS)) % len(VERBS)]
    kind = i % 3
    if kind == 0:
        return f"{s} {v} outside", f"{s} {v}", "ENTAILMENT"
    if kind == 1:
        return f"{s} {v}", f"{s} is not {v.split()[-1]}", "CONTRADICTION"
    return f"{s} {v}", f"{s} {v} with a friend", "NEUTRAL"


@pytest.fixture(autouse=True)
def _forget_local_tasks() -> Iterator[None]:
    """Each test declares its own rte_local / sick_local files: unregister them afterwards."""
    yield
    for name in ("rte_local", "sick_local"):
        if name in TASKS:
            TASKS.unregister(name)


def _nli_files(root: Path) -> None:
    glue = ["index\tsentence1\tsentence2\tlabel"]
    glue += [f"{i}\t{p}\t{h}\t{'entailment' if lab == 'ENTAILMENT' else 'not_entailment'}"
             for i, (p, h, lab) in enumerate(map(_pair, range(120)))]
    _write(root / "RTE" / "train.tsv", "\n".join(glue[:91]) + "\n")
    _write(root / "RTE" / "dev.tsv", "\n".join([glue[0], *glue[91:]]) + "\n")
    sick = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
    sick += [f"{i}\t{p}\t{h}\t3.5\t{lab}" for i, (p, h, lab) in enumerate(map(_pair, range(7, 157)))]
    _write(root / "SICK.txt", "\n".join(sick) + "\n")
    _write(root / "rte_local.yaml", """
        name: rte_local
        kind: text-pair
        format: tsv
        files: {train: RTE/train.tsv, test: RTE/dev.tsv}
        split: {validation: 0.2, seed: 0}
        columns: {premise: sentence1, hypothesis: sentence2, id: index}
        label_names: [entailment, not_entailment]
        """)
    _write(root / "sick_local.yaml", """
        name: sick_local
        kind: text-pair
        format: tsv
        file: SICK.txt
        split: {validation: 0.1, test: 0.2, seed: 0}
        columns: {premise: sentence_A, hypothesis: sentence_B, label: entailment_judgment}
        label_names: [ENTAILMENT, NEUTRAL, CONTRADICTION]
        """)


SUITE = """
    name: my_nli
    description: two NLI folders of mine
    tasks: [data/rte_local.yaml, data/sick_local.yaml]
    pairs: ["sick_local -> rte_local"]
    seeds: [0, 1]
    methods: [target_only, finetune]
    protocols:
      text:
        backbone: minilm-l6
        trainable: top-1
        budgets: {train: 40, validation: 16, test: 24, source_train: 40}
        train: {max_epochs: 1, patience: 0, batch_size: 16, lr: 2.0e-4, head_lr: 2.0e-3}
    """


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=REPO, env=env,
                          capture_output=True, text=True)


def test_a_users_suite_over_yaml_tasks_runs_end_to_end(tmp_path: Path, smoke_cache: Path) -> None:
    _nli_files(tmp_path / "data")
    suite_file = _write(tmp_path / "my_nli.yaml", SUITE)
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(smoke_cache)}
    results = tmp_path / "results"
    out = _cli("run", "--suite", str(suite_file), "--results", str(results), env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    # 2 seeds x (target_only + finetune on the one pair's target; the source-only task is no target)
    assert "4 runs: 4 ran" in out.stdout
    record = json.loads((results / "runs/my_nli/rte_local/finetune/sick_local/budget=40/seed=1/run.json").read_text())
    assert record["status"] == "ok" and record["suite_file"] == str(suite_file.resolve())
    assert len(record["suite_hash"]) == 16
    # Traceable: the method's file, each task's declaration and its data files, with their SHA-256.
    plugins = record["plugins"]
    finetune = REPO / "baselines/finetune.py"
    assert plugins["method"] == {"file": str(finetune), "sha256": hashlib.sha256(finetune.read_bytes()).hexdigest()}

    def sha(path: Path) -> dict[str, str]:
        return {"file": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}

    data = tmp_path / "data"
    assert plugins["tasks"]["rte_local"] == {**sha(data / "rte_local.yaml"),
                                             "data": [sha(data / "RTE/dev.tsv"), sha(data / "RTE/train.tsv")]}
    assert plugins["tasks"]["sick_local"] == {**sha(data / "sick_local.yaml"), "data": [sha(data / "SICK.txt")]}
    out = _cli("leaderboard", "--results", str(results), env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    tm = pd.read_csv(results / "leaderboards" / "transfer_matrix.csv")
    row = tm[(tm["method"] == "finetune")].iloc[0]
    assert (row["suite"], row["source"], row["target"], row["n_seeds"]) == ("my_nli", "sick_local", "rte_local", 2)
    assert row["verdict"] in {"positive", "negative", "equivalent", "inconclusive"}
    # Resume: the same suite file again runs nothing.
    again = _cli("run", "--suite", str(suite_file), "--results", str(results), env=env)
    assert "0 ran, 4 already done" in again.stdout


def test_shipped_suites_are_files_and_listed() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmark", "list", "suites"], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for name in ("smoke", "quick", "default", "full"):
        assert name in out.stdout
        assert get_suite(name).file.endswith(f"suite_files/{name}.yaml")
    assert "shipped" in out.stdout
    default = get_suite("default")
    # Every task kind is a target (text, NLI, image), the NLI target with a real source and
    # its positive control; sequential seeds are opt-in; precision follows the hardware.
    from benchmark.data.task import get_task

    kinds = {get_task(t).kind for t in default.targets()}
    assert kinds == {"text", "text-pair", "image"}
    nli = [t for t in default.targets() if get_task(t).kind == "text-pair"]
    sources = {s for s, t in default.pairs() if t in nli}
    assert any("~" not in s for s in sources) and any(s.endswith("~more") for s in sources)
    assert default.max_seeds is None
    assert {p.precision for p in default.protocols.values()} == {"auto"}


@pytest.mark.parametrize(("edit", "message"), [
    (("seeds: [0, 1]", "seedz: [0, 1]"), "unknown key 'seedz'. Did you mean 'seeds'?"),
    (("trainable: top-1", "trainabel: top-1"), "unknown key protocols.text.'trainabel'. Did you mean 'trainable'?"),
    (("max_epochs: 1", "max_epoch: 1"), "Did you mean 'max_epochs'?"),
    (("data/sick_local.yaml]", "data/sick_local.yaml, digitz]"), "unknown task 'digitz'. Did you mean 'digits'?"),
    (("sick_local -> rte_local", "sick_lokal -> rte_local"), "Did you mean 'sick_local'?"),
    (("data/sick_local.yaml]", "data/sick_local.yaml, digits]"), None),  # needs an image protocol
    (("methods: [target_only, finetune]", "methods: [target_only, finetun]"), "Did you mean 'finetune'?"),
    (("trainable: top-1", "trainable: top-1\n        pair_encoding: siames"),
     "pair_encoding 'siames' is unknown. Did you mean 'siamese'?"),
    (("trainable: top-1", "trainable: top-1\n        pair_tokens: 0"), "pair_tokens must be an integer >= 2"),
])
def test_a_bad_suite_file_gets_a_one_line_error(tmp_path: Path, edit: tuple[str, str], message: str | None) -> None:
    _nli_files(tmp_path / "data")
    bad = _write(tmp_path / "bad.yaml", SUITE.replace(*edit))
    with pytest.raises(BenchmarkError) as info:
        load_suite_file(bad)
    text = str(info.value)
    assert "\n" not in text and str(bad) in text
    if message:
        assert message in text
    else:
        assert "no protocols.image" in text


def test_a_cross_family_pair_is_refused(tmp_path: Path) -> None:
    _nli_files(tmp_path / "data")
    text = SUITE.replace("data/sick_local.yaml]", "data/sick_local.yaml, digits]").replace(
        "sick_local -> rte_local", "digits -> rte_local").replace(
        "    protocols:\n", "    protocols:\n      image: {backbone: efficientnet-lite0}\n")
    with pytest.raises(BenchmarkError, match=r"crosses input families \(image -> text\)"):
        load_suite_file(_write(tmp_path / "cross.yaml", text))


def test_unknown_suite_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="unknown suite 'defualt'. Did you mean 'default'?"):
        get_suite("defualt")
    with pytest.raises(BenchmarkError, match="does not exist"):
        get_suite(str(tmp_path / "nope.yaml"))


def test_reading_a_suite_registers_nothing_and_the_suite_holds_its_tasks(tmp_path: Path) -> None:
    """YAML task files and controls belong to the suite that names them: reading it leaves
    the global registry as it was, and the suite resolves them itself."""
    _nli_files(tmp_path / "data")
    text = SUITE.replace("    seeds: [0, 1]", "    controls: {more: [rte_local]}\n    seeds: [0, 1]")
    before = set(TASKS.names())
    suite = load_suite_file(_write(tmp_path / "my_nli.yaml", text))
    assert set(TASKS.names()) == before
    assert suite.task("rte_local").origin == str((tmp_path / "data" / "rte_local.yaml").resolve())
    control = suite.task("rte_local~more")
    assert control.family == "text" and ("rte_local~more", "rte_local") in suite.pairs()
    assert len(control.load(0, Budget(10, 8, 8))["train"]) == 10


@pytest.mark.parametrize(("line", "message"), [
    ("reference: target_onyl", "Did you mean 'target_only'?"),
    ("reference: finetune", "the reference is measured per target alone"),
    ("judge: scratch", "cannot judge a transfer"),
    ("judge: finetun", "Did you mean 'finetune'?"),
])
def test_roles_are_checked_in_one_line(tmp_path: Path, line: str, message: str) -> None:
    _nli_files(tmp_path / "data")
    with pytest.raises(BenchmarkError) as info:
        text = SUITE.replace("    seeds: [0, 1]", f"    {line}\n    seeds: [0, 1]")
        load_suite_file(_write(tmp_path / "my_nli.yaml", text))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_suite_declares_its_roles_and_a_suite_without_a_judge_skips_transferability(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from benchmark.pipeline.transferability import score_suite

    _nli_files(tmp_path / "data")
    default = load_suite_file(_write(tmp_path / "my_nli.yaml", SUITE))
    assert (default.roles.reference, default.roles.judge) == ("target_only", "finetune")
    path = _write(tmp_path / "no_judge.yaml", SUITE.replace("    seeds: [0, 1]", "    judge: null\n    seeds: [0, 1]"))
    assert load_suite_file(path).roles.judge is None
    with caplog.at_level("INFO"):
        assert score_suite(str(path), tmp_path / "results") == (0, 0, 0)
    assert "declares no judge" in caplog.text
