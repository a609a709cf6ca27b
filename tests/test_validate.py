"""`python -m benchmark validate` on method files written in tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.validate import validate_method_file

REPO = Path(__file__).resolve().parents[1]

GOOD = '''
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method


@register_method("{name}")
@dataclass
class Good(Method):
    """Fine-tune from the source model with a smaller head learning rate (test method)."""

    needs_source: ClassVar[bool] = True
    head_scale: float = 0.5

    def fit(self, ctx: FitContext) -> Classifier:
        import copy, dataclasses
        trunk = copy.deepcopy(ctx.source.trunk).requires_grad_(True)
        model = Classifier(trunk, new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        config = dataclasses.replace(ctx.config, head_lr=ctx.config.head_lr * self.{attr})
        fit(model, ctx.train, ctx.validation, config, ctx.generator, device=ctx.device)
        return model
'''

UNTYPED = '''
from dataclasses import dataclass

from benchmark.api import Classifier, FitContext, Method, register_method


@register_method("untyped_method")
@dataclass
class Untyped(Method):
    """A hyperparameter without a type annotation."""

    lr = 0.1

    def fit(self, ctx: FitContext) -> Classifier:
        raise NotImplementedError
'''


def test_validate_accepts_a_correct_method(tmp_path: Path, smoke_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))
    path = tmp_path / "good_method.py"
    path.write_text(GOOD.format(name="good_method", attr="head_scale"))
    report = validate_method_file(path)
    assert "ok: good_method" in report and "same predictions" in report


def test_validate_rejects_a_misspelled_hyperparameter(tmp_path: Path) -> None:
    path = tmp_path / "typo_method.py"
    path.write_text(GOOD.format(name="typo_method", attr="head_scal"))
    with pytest.raises(BenchmarkError, match=r"self\.head_scal.*Did you mean 'head_scale'"):
        validate_method_file(path)


def test_validate_rejects_an_untyped_hyperparameter_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "untyped_method.py"
    path.write_text(UNTYPED)
    out = subprocess.run([sys.executable, "-m", "benchmark", "validate", str(path)], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "'lr'" in out.stderr and "type annotation" in out.stderr
    assert out.stderr.strip().count("\n") == 0


def test_validate_rejects_a_file_without_a_method(tmp_path: Path) -> None:
    path = tmp_path / "nothing.py"
    path.write_text("x = 1\n")
    with pytest.raises(BenchmarkError, match="registers no new method"):
        validate_method_file(path)


def test_validate_checks_a_built_in_method_file_as_registered(smoke_cache: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))
    path = Path(__file__).resolve().parents[1] / "baselines" / "task_arithmetic.py"
    report = validate_method_file(path)
    assert report.startswith("ok: task_arithmetic (")
    from benchmark.models.method import METHODS

    assert "task_arithmetic" in METHODS.names()  # checked, not unregistered
