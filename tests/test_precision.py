"""Precision chosen by the hardware: auto resolves per device, the choice keys every run and is
recorded, changing it reruns, and a cell mixing two precisions is a warning, not an average.

The CPU kind is simulated with ``BENCHMARK_NATIVE_BF16`` (0: a CPU without native bf16) so
both kinds are exercised on whichever machine runs the tests; training is real (smoke suite).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmark.models import precision as precision_module
from benchmark.models.precision import NATIVE_BF16_ENV, native_bf16, resolve_precision
from benchmark.runs.suite_yaml import load_suite_file

pytestmark = pytest.mark.slow  # trains real models in subprocesses

REPO = Path(__file__).resolve().parents[1]
RUN = [sys.executable, "-m", "benchmark", "run", "--suite", "smoke", "--tasks", "digits",
       "--methods", "target_only,finetune", "--seeds", "0"]


def _cli(args: list[str], results: Path, cache: Path, native: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(cache), NATIVE_BF16_ENV: native}
    return subprocess.run([*args, "--results", str(results)], cwd=REPO, env=env, capture_output=True, text=True)


def _records(results: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(results.rglob("run.json"))]


@pytest.fixture()
def fresh_resolution() -> None:
    native_bf16.cache_clear()
    resolve_precision.cache_clear()
    yield
    native_bf16.cache_clear()
    resolve_precision.cache_clear()


@pytest.mark.usefixtures("fresh_resolution")
def test_auto_is_bf16_only_where_native(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(NATIVE_BF16_ENV, "0")
    with caplog.at_level(logging.INFO, logger=precision_module.__name__):
        assert resolve_precision("auto") == "fp32"
        assert resolve_precision("auto") == "fp32"
    assert sum("precision fp32 (auto" in r.message for r in caplog.records) == 1  # logged once
    assert resolve_precision("fp32") == "fp32"
    with caplog.at_level(logging.WARNING, logger=precision_module.__name__):
        assert resolve_precision("bf16") == "bf16"  # honoured, but said to be slow here
    assert any("emulates" in r.message for r in caplog.records)
    native_bf16.cache_clear()
    resolve_precision.cache_clear()
    monkeypatch.setenv(NATIVE_BF16_ENV, "1")
    assert resolve_precision("auto") == "bf16"


@pytest.mark.usefixtures("fresh_resolution")
def test_the_real_probe_agrees_with_the_cpu_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NATIVE_BF16_ENV, raising=False)
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    native, why = native_bf16("cpu")
    assert native == ("avx512_bf16" in flags or "amx_bf16" in flags), why


def test_suite_files_take_precision_and_refuse_the_old_bf16_key(tmp_path: Path) -> None:
    from benchmark.errors import ConfigError

    text = (REPO / "benchmark/runs/suite_files/smoke.yaml").read_text()
    good = tmp_path / "p.yaml"
    with_key = "trainable: top-1\n    precision: {}"
    with_key = "trainable: top-1\n    precision: {}"
    good.write_text(text.replace("name: smoke", "name: p").replace("trainable: top-1", with_key.format("fp32")))
    suite = load_suite_file(good)
    assert {p.precision for p in suite.protocols.values()} == {"fp32"}
    assert not any(p.train.bf16 for p in suite.with_precision(None).protocols.values())
    assert all(p.train.bf16 for p in suite.with_precision("bf16").protocols.values())
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("name: smoke", "name: bad").replace("max_epochs: 2,", "max_epochs: 2, bf16: false,"))
    with pytest.raises(ConfigError, match=r"train\.bf16 is replaced by protocols\.\w+\.precision.*precision: fp32"):
        load_suite_file(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("name: smoke", "name: typo").replace("trainable: top-1", with_key.format("fp23")))
    with pytest.raises(ConfigError, match="Did you mean 'fp32'"):
        load_suite_file(typo)


def test_auto_on_a_cpu_without_native_bf16_is_the_fp32_run_and_bf16_reruns(tmp_path: Path) -> None:
    results, cache = tmp_path / "results", tmp_path / "cache"
    first = _cli([*RUN, "--precision", "fp32"], results, cache, native="0")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "precision fp32" in first.stdout
    records = _records(results)
    assert records and {r["precision"] for r in records} == {"fp32"}
    assert all(r["protocol"]["train"]["bf16"] is False for r in records)  # type: ignore[index]
    # auto on a CPU without native bf16 picks fp32: the same keys, so nothing runs again.
    again = _cli(RUN, results, cache, native="0")
    assert again.returncode == 0 and f"0 ran, {len(records)} already done" in again.stdout, again.stdout
    assert "precision fp32 (auto" in again.stderr
    # On a CPU with native bf16, auto picks bf16: another key, so every run reruns.
    native = _cli(RUN, results, cache, native="1")
    assert native.returncode == 0 and f"{len(records)} ran, 0 already done" in native.stdout, native.stdout
    assert {r["precision"] for r in _records(results)} == {"bf16"}
    per_task = pd.read_csv(results / "leaderboards/per_task.csv")
    assert set(per_task["precision"]) == {"bf16"}
    # Stem states and fits are keyed by precision too: both precisions' files are in the cache.
    assert len(list((cache / "fits").glob("digits-seed0-*.pt"))) == 2


def test_a_cell_mixing_precisions_is_a_warning_not_a_silent_average(tmp_path: Path) -> None:
    results, cache = tmp_path / "results", tmp_path / "cache"
    assert _cli([*RUN, "--precision", "fp32"], results, cache, native="0").returncode == 0
    second = _cli([*RUN[:-1], "1", "--precision", "bf16"], results, cache, native="0")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "mixes runs of precisions bf16+fp32" in second.stderr
    per_task = pd.read_csv(results / "leaderboards/per_task.csv")
    assert set(per_task["precision"]) == {"bf16+fp32"}
    report = (results / "report/index.md").read_text()
    assert "average runs of two precisions" in report and "computed in bf16 and fp32" in report
