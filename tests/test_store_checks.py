"""The store checks what it trusts (label space, real folders) and the machine's faults are
not blamed on the runs (issue 22, classes 4 and 5). Runs written here with
``run_store_helpers`` are generated; the slow test trains one real smoke run on digits."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from benchmark.cli import main
from benchmark.errors import EnvironmentFault, environment_cause
from benchmark.runs.manifest import RunManifest
from benchmark.runs.store import RunId, RunStore, run_dir, scan_runs
from tests.run_store_helpers import write_plan, write_run

REPO = Path(__file__).resolve().parents[1]
#: One real run of the smoke suite: digits, target_only, seed 0 (budget 96).
SMOKE_RUN = ["run", "--suite", "smoke", "--tasks", "digits", "--methods", "target_only", "--seeds", "0"]
SMOKE_ID = RunId("smoke", "digits", "target_only", "-", 96, 0)


def _cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a new process."""
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _generated(results: Path, seed: int = 0, **kw: object) -> Path:
    """A generated ok run of 3 classes on 20 examples."""
    return write_run(results, suite="s", target="t", method="m", source=None, seed=seed,
                     correct=np.arange(20) % 2 == 0, num_labels=3, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- class 4: the store


@pytest.mark.parametrize("column", ["label", "prediction", "both"])
def test_predictions_outside_the_tasks_classes_are_corrupt(tmp_path: Path, column: str) -> None:
    folder = _generated(tmp_path)
    path = folder / "predictions.parquet"
    frame = pq.read_table(path).to_pandas()
    assert scan_runs(tmp_path, "s")[0].status == "ok"
    # Row 0 becomes class 7 of a 3-class task, with `correct` kept consistent.
    if column in ("label", "both"):
        frame.loc[0, "label"] = 7
    if column in ("prediction", "both"):
        frame.loc[0, "prediction"] = 7
    frame["correct"] = frame["label"] == frame["prediction"]
    frame.to_parquet(path)
    record = scan_runs(tmp_path, "s")[0]
    name = "label" if column != "prediction" else "prediction"
    assert record.status == "failed"
    assert record.error == f"corrupt: predictions.parquet has {name} 7 outside the task's 3 classes"
    assert not RunStore(tmp_path).is_finished(RunId("s", "t", "m", "-", 100, 0), "k0")  # `run` redoes it


def test_negative_labels_are_corrupt(tmp_path: Path) -> None:
    path = _generated(tmp_path) / "predictions.parquet"
    frame = pq.read_table(path).to_pandas()
    frame.loc[3, ["label", "prediction"]] = -1
    frame["correct"] = frame["label"] == frame["prediction"]
    frame.to_parquet(path)
    assert scan_runs(tmp_path, "s")[0].error == "corrupt: predictions.parquet has label -1 outside the task's 3 classes"


def _rewrite_probabilities(path: Path, edit: str) -> None:
    table = pq.read_table(path)
    probs = np.array(table["probabilities"].to_pylist(), dtype=np.float32)
    if edit == "nan":
        probs[2, 0] = np.nan
    elif edit == "negative":
        probs[2] = [-0.1, 0.2, 0.9]
    elif edit == "not summing to 1":
        probs[2] *= 0.5
    elif edit == "argmax":  # a distribution, but its most likely class is not the prediction
        probs[2] = np.roll(probs[2], 1)
    rows = [list(p) for p in probs] if edit != "short rows" else [list(p[:2]) for p in probs]
    index = table.schema.get_field_index("probabilities")
    pq.write_table(table.set_column(index, "probabilities", pa.array(rows, pa.list_(pa.float32()))), path)


@pytest.mark.parametrize("edit,message", [
    ("nan", "probabilities that are not a distribution"), ("negative", "probabilities that are not a distribution"),
    ("not summing to 1", "probabilities that are not a distribution"),
    ("argmax", "prediction column is not the argmax of its probabilities"),
    ("short rows", "probability rows of length 2, not 3")])
def test_probabilities_that_are_not_the_models_distribution_are_corrupt(tmp_path: Path, edit: str,
                                                                       message: str) -> None:
    _rewrite_probabilities(_generated(tmp_path) / "predictions.parquet", edit)
    record = scan_runs(tmp_path, "s")[0]
    assert record.status == "failed" and record.error is not None and message in record.error, record.error


def test_an_accuracy_in_run_json_that_is_not_the_predictions_own_is_corrupt(tmp_path: Path) -> None:
    folder = _generated(tmp_path)
    manifest = json.loads((folder / "run.json").read_text())
    manifest["accuracy"] = 0.5  # the predictions' own: 10 of 20 correct
    (folder / "run.json").write_text(json.dumps(manifest))
    assert scan_runs(tmp_path, "s")[0].status == "ok"
    manifest["accuracy"] = 0.99  # a hand edit
    (folder / "run.json").write_text(json.dumps(manifest))
    record = scan_runs(tmp_path, "s")[0]
    assert record.status == "failed"
    assert record.error == "corrupt: run.json says accuracy 0.99, its predictions give 0.5"


def test_the_leaderboard_command_counts_an_edited_run_as_failed_and_says_why(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_plan(tmp_path, "s", [("t", "m", None, 0), ("t", "m", None, 1)])
    _generated(tmp_path, seed=0)
    _rewrite_probabilities(_generated(tmp_path, seed=1) / "predictions.parquet", "nan")
    assert main(["leaderboard", "--results", str(tmp_path)]) == 0
    assert "predictions.parquet has probabilities that are not a distribution" in caplog.text
    row = pd.read_csv(tmp_path / "leaderboards/per_task.csv").iloc[0]
    assert (row["n_runs"], row["n_seeds"], row["n_failed"]) == (2, 1, 1)


def test_a_symlinked_run_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    """Seed 0's folder is a link to seed 1's: writing through it would write one run over
    another, so `run` refuses (exit 2) and names the link and the fix; seed 1 is untouched."""
    results = tmp_path / "results"
    real = run_dir(results, "smoke", "digits", "target_only", None, 96, 1)
    write_run(results, suite="smoke", target="digits", method="target_only", source=None, seed=1, budget=96,
              correct=[True, False])
    linked = run_dir(results, "smoke", "digits", "target_only", None, 96, 0)
    linked.symlink_to(real, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in real.iterdir()}
    code = main([*SMOKE_RUN, "--results", str(results)])
    assert code == 2
    assert {p.name: p.read_bytes() for p in real.iterdir()} == before
    assert not (results / "runs/smoke/plan.json").exists()
    # A reader counts the linked folder as failed, never as seed 0's result.
    records = {r.seed: r for r in scan_runs(results, "smoke")}
    assert records[1].status == "ok" and records[0].status == "failed"
    assert records[0].error is not None and "symbolic link" in records[0].error


def test_a_symlinked_folder_on_the_way_is_refused_with_the_fix(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """runs/smoke links to a folder outside the results folder (e.g. another results folder)."""
    elsewhere, results = tmp_path / "elsewhere", tmp_path / "results"
    elsewhere.mkdir()
    (results / "runs").mkdir(parents=True)
    (results / "runs/smoke").symlink_to(elsewhere, target_is_directory=True)
    assert main([*SMOKE_RUN, "--results", str(results)]) == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1
    assert f"{results / 'runs/smoke'} is a symbolic link (to {elsewhere})" in err[0]
    assert "replace it with a real folder" in err[0]
    assert list(elsewhere.iterdir()) == []  # nothing written through the link


def test_a_linked_file_in_a_run_folder_is_not_a_finished_run(tmp_path: Path) -> None:
    """predictions.parquet linked to another run's: a rerun replaces the link (atomic writes
    replace the link itself, never the file it points to)."""
    other = _generated(tmp_path, seed=1)
    folder = _generated(tmp_path, seed=0)
    (folder / "predictions.parquet").unlink()
    (folder / "predictions.parquet").symlink_to(other / "predictions.parquet")
    store = RunStore(tmp_path)
    assert not store.is_finished(RunId("s", "t", "m", "-", 100, 0), "k0")
    assert store.is_finished(RunId("s", "t", "m", "-", 100, 1), "k1")
    assert scan_runs(tmp_path, "s")[0].error == (
        f"corrupt: predictions.parquet is a symbolic link (to {other / 'predictions.parquet'})")


# --------------------------------------------------------------------------- class 5: the machine


@pytest.mark.parametrize("device", ["cuda", "gpu", "cuda:1"])
def test_a_device_the_machine_lacks_is_refused_with_exit_4_and_nothing_written(tmp_path: Path, device: str) -> None:
    if device != "gpu" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    results = tmp_path / "results"
    out = _cli([*SMOKE_RUN, "--results", str(results), "--device", device],
               env={"BENCHMARK_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 4, out.stderr[-2000:]
    err = _errors(out.stderr)
    assert len(err) == 1 and f"device {device!r}" in err[0] and "--device cpu" in err[0]
    assert not results.exists()  # no lock, no plan, no run


def _read_only(folder: Path) -> Path:
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores the mode
        folder.chmod(0o700)
        pytest.skip("running as root: chmod does not make a folder read-only")
    return folder


@pytest.mark.parametrize("kind", ["read-only", "not a folder"])
def test_an_unwritable_cache_folder_stops_run_before_the_first_run(tmp_path: Path, kind: str) -> None:
    if kind == "read-only":
        cache = _read_only(tmp_path / "cache")
    else:  # works as root too: the cache's parent is a file
        (tmp_path / "file").write_text("not a folder")
        cache = tmp_path / "file" / "cache"
    results = tmp_path / "results"
    try:
        out = _cli([*SMOKE_RUN, "--results", str(results)], env={"BENCHMARK_CACHE_DIR": str(cache)})
    finally:
        if cache.is_dir():
            cache.chmod(0o700)
    assert out.returncode == 4, out.stderr[-2000:]
    err = _errors(out.stderr)
    assert len(err) == 1
    assert f"cache folder {cache} is not writable" in err[0] and "BENCHMARK_CACHE_DIR" in err[0]
    assert not results.exists()


def test_an_unwritable_home_stops_run_with_exit_4(tmp_path: Path) -> None:
    """No BENCHMARK_* setting: the cache is under HOME, which here cannot hold a folder."""
    home = tmp_path / "home"
    home.write_text("HOME is a file here")
    env = {k: v for k, v in os.environ.items() if k not in ("BENCHMARK_CACHE_DIR", "BENCHMARK_HOME")}
    out = subprocess.run([sys.executable, "-m", "benchmark", *SMOKE_RUN, "--results", str(tmp_path / "r")],
                         cwd=REPO, capture_output=True, text=True, env={**env, "HOME": str(home)}, timeout=600)
    assert out.returncode == 4, out.stderr[-2000:]
    err = _errors(out.stderr)
    assert len(err) == 1 and str(home / ".cache/benchmark") in err[0] and "HOME" in err[0]


def test_a_file_system_fault_inside_a_run_stops_the_command_and_records_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The disk fills while a run reads its inputs: exit 4, no run.json (it is no run's failure)."""
    from benchmark.runs.workspace import Workspace

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "cache/features/x"))

    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(Workspace, "states", full)
    monkeypatch.setattr(Workspace, "fitted", full)
    results = tmp_path / "results"
    assert main([*SMOKE_RUN, "--results", str(results)]) == 4
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "No space left on device" in err[0] and "rerun the same command" in err[0]
    assert not (run_dir(results, "smoke", "digits", "target_only", None, 96, 0) / "run.json").exists()


@pytest.mark.parametrize(("error", "retried"), [
    ("OSError: [Errno 30] Read-only file system: '/home/u/.cache/benchmark/features/x.npy'", True),
    ("PermissionError: [Errno 13] Permission denied: '/home/u/.cache'", True),
    ("OSError: [Errno 28] No space left on device", True),
    ("RuntimeError: Found no NVIDIA driver on your system.", True),
    ("ValueError: the head has 2 outputs", False),
    ("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", False),  # the run's batch size
])
def test_an_older_failure_of_the_machine_is_not_a_finished_run(tmp_path: Path, error: str, retried: bool) -> None:
    folder = write_run(tmp_path, suite="s", target="t", method="m", source=None, seed=0, status="failed")
    record = json.loads((folder / "run.json").read_text())
    assert "failure" not in json.dumps(record) or record.get("failure") is None  # as an older version wrote it
    record.pop("failure", None)
    (folder / "run.json").write_text(json.dumps({**record, "error": error}))
    run = RunId("s", "t", "m", "-", 100, 0)
    assert RunStore(tmp_path).is_finished(run, "k0") is not retried
    assert RunManifest.from_json({**record, "error": error}).failure_kind == ("environment" if retried else "run")
    # A failure this version recorded says whose it was, whatever its text.
    (folder / "run.json").write_text(json.dumps({**record, "error": error, "failure": "run"}))
    assert RunStore(tmp_path).is_finished(run, "k0")


def test_environment_cause_reads_exceptions() -> None:
    assert environment_cause(OSError(errno.EROFS, "Read-only file system", "/c")) == \
        "file system error /c: Read-only file system"
    assert environment_cause(EnvironmentFault("x")) == "x"
    assert environment_cause(ValueError("bad label")) is None
    assert environment_cause(OSError(errno.ENOENT, "No such file or directory", "/data.csv")) is None


@pytest.mark.slow
def test_a_run_recorded_failed_by_the_machine_is_retried_by_a_plain_run(tmp_path: Path) -> None:
    """A real smoke run (digits, generated budget 96, 1 seed); its record is then rewritten as an
    older version wrote a failure of the machine, and a plain `run` redoes it; a failure of the
    run itself stays done (only --retry-failed redoes it); out-of-range labels are redone."""
    results, env = tmp_path / "results", {"BENCHMARK_CACHE_DIR": str(tmp_path / "cache")}
    args = [*SMOKE_RUN, "--results", str(results)]
    first = _cli(args, env)
    assert first.returncode == 0 and "1 runs: 1 ran" in first.stdout, first.stderr[-2000:]
    folder = run_dir(results, "smoke", "digits", "target_only", None, 96, 0)
    ok = json.loads((folder / "run.json").read_text())

    def fail_as(error: str) -> None:
        (folder / "predictions.parquet").unlink(missing_ok=True)
        (folder / "run.json").write_text(json.dumps({**ok, "status": "failed", "error": error, "n_test": 0,
                                                     "failure": None}))

    fail_as("OSError: [Errno 30] Read-only file system: '/root/.cache/benchmark/features/digits.npy'")
    again = _cli(args, env)
    assert again.returncode == 0 and "1 runs: 1 ran, 0 already done, 0 failed" in again.stdout, again.stderr[-2000:]
    assert scan_runs(results, "smoke")[0].status == "ok"
    fail_as("ValueError: a failure of the run itself")
    kept = _cli(args, env)
    assert "1 runs: 0 ran, 1 already done (1 of them recorded failed: --retry-failed reruns them)" in kept.stdout
    # Out-of-range labels (correct kept consistent) count as corrupt: redone.
    _cli([*args, "--retry-failed"], env)
    path = folder / "predictions.parquet"
    frame = pq.read_table(path).to_pandas()
    frame["label"] = frame["label"] + 10
    frame["prediction"] = frame["prediction"] + 10
    frame.to_parquet(path)
    redo = _cli(args, env)
    assert "1 runs: 1 ran" in redo.stdout and "outside the task's 10 classes" in redo.stderr, redo.stderr[-2000:]
