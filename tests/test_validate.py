"""`python -m benchmark validate` on method files written in tmp_path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.errors import BenchmarkError
from benchmark.validate import validate_method_file

REPO = Path(__file__).resolve().parents[1]

GOOD = '''
import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from benchmark.api import Classifier, FitContext, Method, register_method


@register_method("{name}")
@dataclass
class Good(Method):
    """Fine-tune from the source model with a smaller head learning rate (test method)."""

    needs_source: ClassVar[bool] = True
    head_scale: float = 0.5

    def fit(self, ctx: FitContext) -> Classifier:
        config = dataclasses.replace(ctx.config, head_lr=ctx.config.head_lr * self.{attr})
        return ctx.fit(ctx.new_classifier(ctx.source_trunk()), config=config)
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
    path = Path(__file__).resolve().parents[1] / "baselines" / "finetune.py"  # pairwise: smoke only (fast)
    report = validate_method_file(path)
    assert report.startswith("ok: finetune (4 runs on smoke,")
    from benchmark.models.method import METHODS

    assert "finetune" in METHODS.names()  # checked, not unregistered


def _readme_method_blocks() -> list[str]:
    """The Python blocks of the README's "Submitting a method" section, in order."""
    section = (REPO / "README.md").read_text().split("## Submitting a method\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_methods_register_and_run(tmp_path: Path, smoke_cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole file as printed, and the extra-loss fragment put in its place, pass validate."""
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))
    whole, fragment = _readme_method_blocks()
    assert '@register_method("my_method")' in whole and fragment.startswith("    weight: float")
    header = whole.split("    def fit(", 1)[0]  # imports, decorator, class line, docstring, needs_source
    regularised = header.replace('"my_method"', '"my_method_regularised"').replace("MyMethod(", "Regularised(")
    path = tmp_path / "readme_methods.py"
    path.write_text("import torch\nfrom benchmark.api import normalized_feature_distance\n"
                    + whole + "\n\n" + regularised + fragment)
    report = validate_method_file(path)
    assert "ok: my_method (" in report and "ok: my_method_regularised (" in report


MANY = '''
import copy
from dataclasses import dataclass
from typing import ClassVar

import torch

from benchmark.api import Classifier, FitContext, Method, register_method


@register_method("{name}")
@dataclass
class MeanStart(Method):
    """Start from the mean of the K source trunks, then fine-tune (test method)."""

    needs_source: ClassVar[bool] = True
    max_sources: ClassVar[int] = 0

    def fit(self, ctx: FitContext) -> Classifier:
        trunk = {start}
        with torch.no_grad():
            for name, p in trunk.named_parameters():
                p.copy_(sum(dict(s.trunk.named_parameters())[name] for s in ctx.sources) / len(ctx.sources))
        trunk.requires_grad_(True)
        return ctx.fit(ctx.new_classifier(trunk))
'''


def test_validate_runs_a_k_source_method_on_groups(tmp_path: Path, smoke_cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))
    path = tmp_path / "mean_start.py"
    path.write_text(MANY.format(name="mean_start", start="copy.deepcopy(ctx.sources[0].trunk)"))
    report = validate_method_file(path)
    # seed 0: smoke's 4 same-family pairs, then smoke_groups' many -> one group (it merges nothing)
    assert report == "ok: mean_start (5 runs on smoke and smoke_groups, same seed gave the same predictions)"


def test_validate_catches_a_k_source_method_that_only_works_for_one(tmp_path: Path, smoke_cache: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """ctx.source is None when K >= 2: a method that reads it passes the pairs and fails the group."""
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(smoke_cache))
    path = tmp_path / "mean_start_bad.py"
    path.write_text(MANY.format(name="mean_start_bad", start="copy.deepcopy(ctx.source.trunk)"))
    with pytest.raises(BenchmarkError, match="failed on the smoke_groups suite"):
        validate_method_file(path)
