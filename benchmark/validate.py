"""``python -m benchmark validate FILE``: check a submitted method before it joins the grid.

Checks, in order: the file imports and registers at least one method; its hyperparameters
are typed dataclass fields with defaults; ``fit`` reads no ``self.<name>`` that is not a
hyperparameter (a misspelling); it runs on the smoke suite (and, when it takes K sources, on
the ``smoke_groups`` suite's many -> one and merge-all groups); and the same seed gives the
same predictions twice.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import tempfile
import textwrap
from pathlib import Path

import pandas as pd

from benchmark.errors import BenchmarkError, ConfigError, did_you_mean
from benchmark.models.method import METHODS, Method, hyperparameter_problems
from benchmark.registry import load_module_from_file
from benchmark.runs.plan import RunFilters
from benchmark.runs.runner import run_suite


def unknown_attributes(cls: type) -> list[str]:
    """``self.x`` reads in the class's own methods where ``x`` is not defined anywhere on it."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return []
    known = {f.name for f in dataclasses.fields(cls)} | set(dir(cls))
    assigned: set[str] = set()
    reads: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            if isinstance(node.ctx, ast.Load):
                reads.append(node.attr)
            else:
                assigned.add(node.attr)
    problems = []
    for name in sorted(set(reads) - known - assigned):
        fields = [f.name for f in dataclasses.fields(cls)]
        problems.append(f"fit reads self.{name}, which is not a hyperparameter.{did_you_mean(name, fields)}")
    return problems


def validate_method_file(path: str | Path, device: str = "cpu", seeds: tuple[int, ...] = (0,),
                         precision: str | None = None) -> str:
    """Validate the methods a file registers; return a short report or raise BenchmarkError."""
    before = set(METHODS.names())
    # A file that is already registered (a built-in method, or an installed plug-in) is
    # checked as registered: importing it again would register its names twice.
    known = sorted(n for n in before if _source_file(METHODS.get(n)) == Path(path).resolve())
    if known:
        return "\n".join(_validate(name, device, seeds, precision) for name in known)
    try:
        load_module_from_file(path)
    except BenchmarkError:
        raise
    except Exception as exc:
        raise BenchmarkError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from None
    new = sorted(set(METHODS.names()) - before)
    if not new:
        raise BenchmarkError(
            f"{path} registers no new method; decorate a Method dataclass with @register_method('name') "
            "(names already registered cannot be reused)."
        )
    try:
        return "\n".join(_validate(name, device, seeds, precision) for name in new)
    finally:  # validating is a check, not a registration
        for name in new:
            METHODS.unregister(name)


def _source_file(cls: type) -> Path | None:
    try:
        return Path(inspect.getsourcefile(cls) or "").resolve()
    except (TypeError, OSError):
        return None


def _validate(name: str, device: str, seeds: tuple[int, ...], precision: str | None = None) -> str:
    """Check one registered method; the report line, or raise BenchmarkError."""
    cls = METHODS.get(name)
    problems = hyperparameter_problems(cls) + unknown_attributes(cls)
    if problems:
        raise ConfigError(f"method {name!r}: {problems[0]}")
    if not issubclass(cls, Method) or inspect.isabstract(cls):
        raise ConfigError(f"method {name!r} must implement fit(self, ctx) -> Classifier")
    # A method that takes K sources also runs the tiny groups (many -> one, and merge all if it merges).
    suites = ["smoke"] + (["smoke_groups"] if cls.takes_sources(2) else [])
    predictions = []
    with tempfile.TemporaryDirectory(prefix="benchmark-validate-") as tmp:
        for attempt in range(2):
            results = Path(tmp) / f"attempt{attempt}"
            for suite in suites:
                summary = run_suite(suite, results, RunFilters(methods=[name], seeds=list(seeds), precision=precision),
                                    device=device)
                if summary.n_failed:
                    raise BenchmarkError(f"method {name!r} failed on the {suite} suite: {summary.failed[0]}")
            files = sorted(results.glob("runs/**/predictions.parquet"))
            predictions.append({str(f.relative_to(results)): pd.read_parquet(f) for f in files})
    first, second = predictions
    for key, frame in first.items():
        if not frame.equals(second[key]):
            raise BenchmarkError(
                f"method {name!r} is not deterministic: {key} differs between two runs with the same "
                "seed; draw all randomness from ctx.generator"
            )
    return f"ok: {name} ({len(first)} runs on {' and '.join(suites)}, same seed gave the same predictions)"
