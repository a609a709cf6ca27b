"""Issue 22, classes 1 and 7: settings that cannot train, and checks that came too late.

Every bad setting is refused through the real CLI with one line and exit code 2, before any
work: no ``.run.lock``, no ``plan.json``, no run folder. Suite and task files are small YAML
files generated in tmp_path; the data is the shipped ``digits`` task (and a generated CSV).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.errors import DataError
from benchmark.models.training import TrainConfig
from benchmark.runs.suite_yaml import load_suite_file

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
    name: {name}
    tasks: [digits]
    seeds: [0]
    methods: [target_only]
    protocols:
      image:
        backbone: efficientnet-lite0
        budgets: {{train: 30, validation: 30, test: 30}}
        train: {{max_epochs: 1, patience: 0, batch_size: 16, lr: 1.0e-3, head_lr: {head_lr}}}
    """


def _suite(folder: Path, name: str = "tiny", head_lr: str = "3.0e-3", file: str = "tiny.yaml",
           train: str | None = None) -> Path:
    """A generated one-target suite on the shipped digits task; ``train`` replaces its train: line."""
    folder.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(SUITE.format(name=name, head_lr=head_lr)).lstrip()
    if train is not None:
        text = "\n".join(f"    train: {train}" if line.strip().startswith("train:") else line
                         for line in text.splitlines()) + "\n"
    path = folder / file
    path.write_text(text, encoding="utf-8")
    return path


def _run(results: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", "--results", str(results), *args])
    return code, capsys.readouterr().err


def _nothing_written(results: Path) -> None:
    """An exit-2 refusal leaves no lock, no plan and no run behind (the folder need not exist)."""
    assert not (results / ".run.lock").exists()
    assert not list(results.glob("runs/**/plan.json")) and not list(results.glob("runs/**/run.json"))


@pytest.mark.parametrize(("train", "says"), [
    ("{lr: -1.0e-3}", "train.lr must be a finite number > 0, e.g. 1.0e-4, got -0.001; fix the value."),
    ("{lr: 0}", "train.lr must be a finite number > 0"),
    ("{head_lr: .nan}", "train.head_lr must be a finite number > 0"),
    ("{max_epochs: 0}", "train.max_epochs must be a finite number >= 1, e.g. 3, got 0"),
    ("{batch_size: 0}", "train.batch_size must be a finite number >= 1, e.g. 32, got 0"),
    ("{patience: -1}", "train.patience must be a finite number >= 0"),
    ("{weight_decay: -0.1}", "train.weight_decay must be a finite number >= 0"),
    ("{eval_batch_size: 0}", "train.eval_batch_size must be a finite number >= 1"),
    ("{min_epoch_examples: -5}", "train.min_epoch_examples must be a finite number >= 0"),
    ("{lr: 1e-3}", "train.lr is the text '1e-3': write 1.0e-3 (YAML reads 1e-3 as text); fix the value."),
    ("{head_lr: 2E4}", "write 2.0e+4 (YAML reads 2E4 as text)"),
    ("{max_epochs: 2.5}", "train.max_epochs must be int, got 2.5"),
])
def test_a_train_setting_that_cannot_train_is_refused_when_the_suite_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], train: str, says: str) -> None:
    suite = _suite(tmp_path, train=train)
    results = tmp_path / "results"
    code, err = _run(results, "--suite", str(suite), capsys=capsys)
    assert code == 2, err
    assert err.startswith(f"error: suite file {suite}: protocols.image.") and says in err, err
    assert err.count("\n") == 1  # one line
    _nothing_written(results)


def test_train_config_itself_refuses_a_setting_that_cannot_train() -> None:
    # Methods override the protocol through dataclasses.replace: the same check applies there.
    assert TrainConfig(lr=2e-4, max_epochs=1, patience=0).lr == 2e-4
    for bad in ({"lr": 0.0}, {"max_epochs": 0}, {"batch_size": 0}, {"head_lr": float("inf")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("edit", "says"), [
    (("seeds: [0]", "seeds: [-1, 0]"), "'seeds' has -1; every value must be >= 0, e.g. [0, 1]."),
    (("train: 30,", "train: 0,"), "budgets.train must be a positive integer"),
    (("validation: 30,", "validation: -3,"), "budgets.validation must be a positive integer or null"),
])
def test_a_negative_seed_or_budget_in_a_suite_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], says: str) -> None:
    suite = _suite(tmp_path)
    suite.write_text(suite.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    code, err = _run(tmp_path / "results", "--suite", str(suite), capsys=capsys)
    assert code == 2 and says in err, err
    _nothing_written(tmp_path / "results")


@pytest.mark.parametrize(("args", "says"), [
    (["--seeds", "-1"], "error: --seeds -1: a seed must be an integer >= 0, e.g. --seeds 0,1,2."),
    (["--methods", ""], "error: --methods is empty; name at least one (e.g. --methods target_only,finetune)"),
    (["--tasks", ","], "error: --tasks is empty"),
    (["--budgets", "0"], "error: --budgets 0: a budget must be an integer >= 1"),
    (["--seeds", "0,1,0"], "error: --seeds lists 0 twice; name each once."),
    (["--methods", "target_only", "--hp", "linear_probe.lr=0.1"],
     "error: --hp linear_probe.lr: method 'linear_probe' is not in this run. Methods in this run: target_only; "
     "add it with --methods or drop the --hp."),
    (["--methods", "linear_probe", "--hp", "linear_probe.epoch=2"],
     "method 'linear_probe' has no hyperparameter 'epoch'. Did you mean 'epochs'?"),
    (["--methods", "target_only", "--hp", "target_onyl.x=1"], "Did you mean 'target_only'?"),
    (["--alpha", "2"], "error: alpha must be strictly between 0 and 1 (e.g. 0.05), got 2.0 (--alpha)"),
    (["--margin", "-1"], "error: margin must be strictly between 0 and 1"),
    # 0 used to read as "no --max-seeds" and ran up to the default 6 seeds.
    (["--until-decided", "--max-seeds", "0"], "error: --max-seeds 0 must exceed the 2 planned seeds; e.g. "
                                              "--max-seeds 5."),
    (["--until-decided", "--max-seeds", "2"], "error: --max-seeds 2 must exceed the 2 planned seeds"),
])
def test_a_bad_command_line_fails_in_one_line_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:
    results = tmp_path / "results"
    code, err = _run(results, "--suite", "smoke", *args, capsys=capsys)
    assert code == 2, err
    assert says in err and err.count("\n") == 1, err
    _nothing_written(results)


def test_yaml_boolean_label_names_in_a_task_file_say_quote_them(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,label\ngood,yes\nbad,no\n", encoding="utf-8")  # generated
    task = tmp_path / "yesno.yaml"
    task.write_text("name: yesno\nkind: text\nformat: csv\nlabel_names: [no, yes]\n"
                    "files: {train: train.csv}\n", encoding="utf-8")
    suite = tmp_path / "s.yaml"
    suite.write_text("name: yn\ntasks: [yesno.yaml]\nprotocols:\n  text: {backbone: minilm-l6}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"label_names \[False, True\] holds booleans .* quote them: \['no', 'yes'\]"):
        load_suite_file(suite)
    # Through the CLI: one line, exit 2.
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "benchmark", "run", "--suite", str(suite), "--results", str(results)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr
    _nothing_written(results)
    assert "quote them: ['no', 'yes']" in proc.stderr and proc.stderr.strip().count("\n") == 0, proc.stderr


def _fake_run(results: Path, suite: str, suite_file: str, suite_hash: str) -> None:
    """A generated run.json of ``suite`` written by another suite file (only the provenance fields matter)."""
    folder = results / "runs" / suite / "digits" / "target_only" / "-" / "budget=30" / "seed=0"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"suite_file": suite_file, "suite_hash": suite_hash}),
                                     encoding="utf-8")


def test_a_second_suite_file_with_the_same_name_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    other = _suite(tmp_path / "a", head_lr="1.0e-2")
    _fake_run(results, "tiny", str(other), "0123456789abcdef")
    mine = _suite(tmp_path / "b")
    code, err = _run(results, "--suite", str(mine), capsys=capsys)
    assert code == 2, err
    assert (f"error: suite 'tiny' from {mine}: {results} already holds runs of another suite file with that name "
            f"({other}); rename the suite (its 'name:') or pass another --results.") in err, err
    assert not (results / ".run.lock").exists() and not (results / "runs/tiny/plan.json").exists()


@pytest.mark.slow
def test_the_same_suite_file_moved_or_edited_is_the_same_suite_but_a_rival_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real run (1 epoch, 30 examples, 1 seed); then the same file edited still runs, and
    another file with the same name is refused before it trains, its runs untouched."""
    results = tmp_path / "results"
    first = _suite(tmp_path / "a")
    code, err = _run(results, "--suite", str(first), capsys=capsys)
    assert code == 0, err
    run_json = results / "runs/tiny/digits/target_only/-/budget=30/seed=0/run.json"
    before = run_json.read_bytes()
    assert json.loads(before)["suite_file"] == str(first)
    copy = tmp_path / "moved" / "tiny.yaml"  # a copy of the same content: the same suite
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    assert _run(results, "--suite", str(copy), capsys=capsys)[0] == 0
    rival = _suite(tmp_path / "b", head_lr="1.0e-2")
    code, err = _run(results, "--suite", str(rival), capsys=capsys)
    assert code == 2 and "already holds runs of another suite file with that name" in err, err
    assert run_json.read_bytes() == before


@pytest.mark.parametrize(("args", "says"), [
    (["runn"], "error: python -m benchmark: argument command: invalid choice: 'runn' (choose from "),
    (["runn"], ". Did you mean 'run'? See 'python -m benchmark --help'."),
    (["run", "--suite", "smoke", "--precision", "bf32"], "invalid choice: 'bf32' (choose from 'auto', 'bf16', "
                                                         "'fp32'). Did you mean 'fp32'?"),
    (["run", "--suite", "smoke", "--bogus", "1"], "unrecognized arguments: --bogus 1. See"),
    (["report", "--results"], "argument --results: expected one argument. See 'python -m benchmark report --help'."),
])
def test_bad_arguments_get_one_line_with_a_did_you_mean(args: list[str], says: str) -> None:
    out = subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert says in out.stderr and out.stderr.count("\n") == 1 and "usage:" not in out.stderr, out.stderr
