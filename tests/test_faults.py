"""Fault points: the mechanism tests use to kill or fail a process at a named place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.faults import ENV_VAR, EXIT_STATUS, InjectedFault, fault_point


def test_unset_or_other_points_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    fault_point("ray.run")
    monkeypatch.setenv(ENV_VAR, "ray.source=raise")
    fault_point("ray.run")


def test_raise_fires_every_time_and_a_marker_makes_it_fire_once(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, "a=raise")
    for _ in range(2):
        with pytest.raises(InjectedFault, match="injected fault at a"):
            fault_point("a")
    marker = tmp_path / "once"
    monkeypatch.setenv(ENV_VAR, f"b=exit@{tmp_path / 'never'}; a=raise@{marker}")
    with pytest.raises(InjectedFault):
        fault_point("a")
    assert marker.exists()
    fault_point("a")  # the marker exists: fired already


def test_exit_ends_the_process_with_its_status(tmp_path: Path) -> None:
    code = "from benchmark.faults import fault_point; fault_point('p'); print('survived')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, ENV_VAR: f"p=exit@{tmp_path / 'm'}"})
    assert out.returncode == EXIT_STATUS and "survived" not in out.stdout
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, ENV_VAR: f"p=exit@{tmp_path / 'm'}"})
    assert again.returncode == 0 and "survived" in again.stdout


def test_an_unknown_action_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "a=explode")
    with pytest.raises(ValueError, match="must be one of exit, kill, raise, enospc"):
        fault_point("a")


def test_nth_occurrence_kill_and_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "c=raise#3")
    fault_point("c")
    fault_point("c")
    with pytest.raises(InjectedFault):
        fault_point("c")
    fault_point("c")  # only the third time
    monkeypatch.setenv(ENV_VAR, "d=enospc")
    with pytest.raises(OSError, match="No space left on device") as info:
        fault_point("d")
    assert info.value.errno == 28
    code = "from benchmark.faults import fault_point\nfor _ in range(3): fault_point('p'); print('at', flush=True)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, ENV_VAR: "p=kill#2"})
    assert out.returncode == -9 and out.stdout.count("at") == 1
