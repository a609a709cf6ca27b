"""Keys cover content: a run's key changes when the code it runs changes (its method, a helper
the method imports, its task's module, the package code they import) and only then; a
comment or a docstring changes no key. Checked through the functions ``run`` uses
(:func:`benchmark.runs.runner.run_key`, ``Workspace.fit_key``, ``plugin_files``) on small
real data, with plug-ins written to a temporary folder; one end-to-end ``run`` (slow) shows a
task module's edit rerunning its run and changing the leaderboard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from benchmark import fingerprint
from benchmark.data.task import TASKS, get_task
from benchmark.fingerprint import code_closure, code_fingerprint, recorded_code_version
from benchmark.models.method import METHODS, Method, make_method
from benchmark.registry import load_module_from_file
from benchmark.runs.executor import WorkspaceSpec
from benchmark.runs.keys import plugin_files, run_code_version
from benchmark.runs.manifest import RunManifest
from benchmark.runs.runner import run_key
from benchmark.runs.store import RunId, identity_problem
from benchmark.runs.suite_catalog import get_suite
from benchmark.runs.workspace import FitJob, Workspace

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "benchmark"


@pytest.fixture(autouse=True)
def _fresh_fingerprints() -> Iterator[None]:
    """Each check reads the files as a new process would (the caches hold what a process first saw)."""
    fingerprint.forget()
    yield
    fingerprint.forget()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not once in {path.name}"
    path.write_text(text.replace(old, new))
    fingerprint.forget()


# --- the closure -------------------------------------------------------------------------------

def test_a_baselines_closure_is_what_it_imports_through_the_api() -> None:
    files = {p.relative_to(REPO).as_posix() for p in code_closure([REPO / "baselines/finetune.py"])}
    # ``from benchmark.api import fit`` depends on the module defining ``fit`` and its imports...
    assert {"baselines/finetune.py", "benchmark/api.py", "benchmark/models/training.py",
            "benchmark/models/method.py", "benchmark/models/backbones/base.py"} <= files
    # ...not on every module the api lists, nor on code the method never reaches.
    for unrelated in ("benchmark/data/sources/offline.py", "benchmark/analysis/report.py", "benchmark/cli.py",
                      "benchmark/runs/store.py", "baselines/ties.py"):
        assert unrelated not in files
    assert not any("site-packages" in f for f in files)  # torch, numpy: their versions are recorded apart


def test_a_runs_closure_holds_its_executor_method_and_task_modules() -> None:
    roots = [PACKAGE / "runs/execute.py", REPO / "baselines/target_only.py", REPO / "tasks/digits.py"]
    files = {p.relative_to(REPO).as_posix() for p in code_closure(roots)}
    assert {"benchmark/runs/workspace.py", "benchmark/data/task.py", "benchmark/data/sources/offline.py",
            "tasks/digits.py", "benchmark/models/training.py"} <= files
    assert "benchmark/analysis/report.py" not in files and "benchmark/cli.py" not in files


def test_imports_under_type_checking_stay_out_and_lazy_and_relative_ones_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = tmp_path / "plugpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("typed_only", "lazy", "sibling", "deep"):
        (pkg / f"{name}.py").write_text(f"VALUE = {name!r}\n")
    (pkg / "main.py").write_text(textwrap.dedent("""\
        from typing import TYPE_CHECKING

        from . import sibling
        from .deep import VALUE

        if TYPE_CHECKING:
            from plugpkg import typed_only


        def f():
            import plugpkg.lazy
            return plugpkg.lazy.VALUE
        """))
    names = {p.name for p in code_closure([pkg / "main.py"])}
    assert names == {"main.py", "__init__.py", "sibling.py", "deep.py", "lazy.py"}


# --- a plug-in method and its helper -------------------------------------------------------------

PLUGIN = '''\
"""A plug-in method whose learning rate comes from a helper beside it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import keys_helper

from benchmark.api import Classifier, FitContext, Method, fit, new_head, register_method


@register_method("keys_probe")
@dataclass
class KeysProbe(Method):
    """Fine-tune with the helper's scaled learning rate."""

    def fit(self, ctx: FitContext) -> Classifier:
        model = Classifier(ctx.make_trunk(), new_head(ctx.backbone.feature_dim, ctx.num_labels, ctx.generator))
        config = dataclasses.replace(ctx.config, lr=keys_helper.scale(ctx.config.lr))
        ctx.record(fit(model, ctx.train, ctx.validation, config, ctx.generator, device=ctx.device))
        return model
'''
HELPER = '''\
"""Helpers of the plug-in method."""


def scale(lr: float) -> float:
    """The learning rate the method trains with."""
    return lr * 1.0
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """``keys_probe`` loaded from a file in ``tmp_path`` the way ``validate`` loads one, with
    its helper module beside it (importable, as from the user's folder)."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "keys_helper.py").write_text(HELPER)
    (folder / "keys_probe.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    load_module_from_file(folder / "keys_probe.py")
    yield folder / "keys_probe.py", folder / "keys_helper.py"
    METHODS.unregister("keys_probe")
    sys.modules.pop("keys_helper", None)


@pytest.fixture(scope="module")
def smoke_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace of the smoke suite (real data, a private cache); only draws are loaded."""
    return WorkspaceSpec(get_suite("smoke"), "cpu", tmp_path_factory.mktemp("cache")).build()


def _key(ws: Workspace, method: Method, name: str, target: str = "digits") -> str:
    return run_key(ws, RunId("smoke", target, name, "-", 96, 0), method)


def test_editing_a_helper_a_method_imports_changes_its_key_and_a_comment_does_not(
        plugin: tuple[Path, Path], smoke_ws: Workspace) -> None:
    method_file, helper = plugin
    method = make_method("keys_probe")
    assert helper.resolve() in code_closure([method_file])
    first = _key(smoke_ws, method, "keys_probe")
    _edit(helper, "    return lr * 1.0\n", "    # the same value, said in a comment\n    return lr * 1.0\n")
    _edit(helper, '"""The learning rate the method trains with."""', '"""The learning rate (unchanged)."""')
    _edit(method_file, '"""Fine-tune with the helper\'s scaled learning rate."""', '"""Reworded docstring."""')
    assert _key(smoke_ws, method, "keys_probe") == first  # nothing that runs changed: nothing reruns
    _edit(helper, "lr * 1.0", "lr * 0.5")
    halved = _key(smoke_ws, method, "keys_probe")
    assert halved != first
    _edit(method_file, "ctx.generator, device=ctx.device))", "ctx.generator, device=ctx.device, desc='probe'))")
    assert _key(smoke_ws, method, "keys_probe") not in (first, halved)


def test_editing_package_code_a_baseline_reaches_changes_its_key(tmp_path: Path) -> None:
    # A copy of the package: the real files are never edited in place.
    copy = tmp_path / "repo"
    shutil.copytree(PACKAGE, copy / "benchmark", ignore=shutil.ignore_patterns("__pycache__", "baselines", "tasks"))
    shutil.copytree(REPO / "baselines", copy / "baselines")
    root = copy / "baselines/finetune.py"
    env = {**os.environ, "PYTHONPATH": str(copy)}
    script = "import sys; from benchmark.fingerprint import code_fingerprint; print(code_fingerprint([sys.argv[1]]))"

    def version() -> str:
        out = subprocess.run([sys.executable, "-c", script, str(root)], cwd=copy, env=env,
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    before = version()
    assert before == code_fingerprint([REPO / "baselines/finetune.py"])  # where the files live does not count
    training = copy / "benchmark/models/training.py"
    training.write_text(training.read_text() + "\n# a trailing comment\n")
    assert version() == before
    report = copy / "benchmark/analysis/report.py"  # not reached by the method: no effect
    report.write_text(report.read_text() + "\nUNUSED = 1\n")
    assert version() == before
    training.write_text(training.read_text() + "\nEXTRA = 1\n")
    assert version() != before


# --- a Python task module ------------------------------------------------------------------------

@pytest.fixture
def task_module(tmp_path: Path) -> Iterator[Path]:
    """A copy of ``tasks/digits.py`` registering ``digits_copy``, loaded from ``tmp_path``."""
    path = tmp_path / "digits_copy.py"
    text = (REPO / "tasks/digits.py").read_text()
    path.write_text(text.replace('"digits"', '"digits_copy"').replace("def digits()", "def digits_copy()"))
    load_module_from_file(path)
    yield path
    TASKS.unregister("digits_copy")


def test_editing_a_task_modules_reading_code_changes_its_run_and_fit_keys(
        task_module: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BENCHMARK_CACHE_DIR", str(tmp_path / "cache"))
    suite = tmp_path / "suite.yaml"
    suite.write_text((PACKAGE / "runs/suite_files/smoke.yaml").read_text()
                     .replace("name: smoke", "name: keys").replace("tasks: [debates, synthetic_nli, digits, mnist]",
                                                                     "tasks: [digits_copy]"))
    method = make_method("target_only")

    def keys() -> tuple[str, str, str]:
        ws = WorkspaceSpec(get_suite(str(suite)), "cpu", tmp_path / "cache").build()
        run = run_key(ws, RunId("keys", "digits_copy", "target_only", "-", 96, 0), method)
        return run, ws.fit_key(FitJob("digits_copy", 0)), run_code_version(type(method), [get_task("digits_copy")])

    first = keys()
    record = plugin_files(type(method), [get_task("digits_copy")])["tasks"]["digits_copy"]
    assert record["file"] == str(task_module.resolve())
    _edit(task_module, '"""1,797 rows', '"""All 1,797 rows')
    _edit(task_module, "    bunch = load_digits()\n", "    bunch = load_digits()  # the bundled copy\n")
    assert keys() == first
    # Reading code that reads differently: every key over the task changes.
    _edit(task_module, "* (255.0 / 16.0)", "* (255.0 / 32.0)")
    changed = keys()
    assert all(a != b for a, b in zip(first, changed, strict=True))


# --- the store's staleness check -----------------------------------------------------------------

def test_the_store_recomputes_the_recorded_version_and_sees_an_edit(plugin: tuple[Path, Path]) -> None:
    method_file, helper = plugin
    cls = type(make_method("keys_probe"))
    run = RunId("smoke", "digits", "keys_probe", "-", 96, 0)
    digits = get_task("digits")
    version = run_code_version(cls, [digits])
    manifest = RunManifest(suite="smoke", target="digits", source=None, method="keys_probe", budget=96, seed=0,
                           key="k", code_version=version, plugins=plugin_files(cls, [digits]))
    assert manifest.plugins["method"]["file"] == str(method_file.resolve())
    assert recorded_code_version(manifest.plugins) == version
    assert identity_problem(run, manifest) is None
    _edit(helper, "lr * 1.0", "lr * 2.0")  # made by other code now: stale
    problem = identity_problem(run, manifest)
    assert problem == f"stale: made by other code (code_version {version}, now {run_code_version(cls, [digits])})"
    moved = manifest.replace(plugins={**manifest.plugins, "method": {"file": str(method_file.with_name("gone.py"))}})
    assert identity_problem(run, moved) is None  # a file not at hand (another machine): no verdict


def test_a_yaml_tasks_record_and_version_cover_its_data_file(tmp_path: Path) -> None:
    from benchmark.data.yaml_task import load_task_yaml

    (tmp_path / "words.csv").write_text("id,text,label\n" + "".join(f"w{i},text {i},{i % 2}\n" for i in range(40)))
    (tmp_path / "words.yaml").write_text("name: keys_words\nkind: text\nformat: csv\nfile: words.csv\n"
                                         "label_names: [a, b]\n")
    task = load_task_yaml(tmp_path / "words.yaml")  # as a suite holds it: not registered
    cls = type(make_method("target_only"))
    record = plugin_files(cls, [task])["tasks"]["keys_words"]
    assert record["file"] == str((tmp_path / "words.yaml").resolve())
    assert [d["file"] for d in record["data"]] == [str((tmp_path / "words.csv").resolve())]
    first = run_code_version(cls, [task])
    _edit(tmp_path / "words.csv", "text 3,", "another text,")
    assert run_code_version(cls, [task]) != first


# --- end to end ----------------------------------------------------------------------------------

SUITE = """\
name: keys_e2e
tasks: [digits_copy]
pairs: []
seeds: [0]
methods: [target_only]
protocols:
  image:
    backbone: efficientnet-lite0
    trainable: top-1
    precision: fp32
    budgets: {train: 200, validation: 100, test: 200, source_train: 200}
    train: {max_epochs: 4, patience: 2, batch_size: 32, lr: 1.0e-3, head_lr: 3.0e-3}
"""
# ``run`` with a plug-in task module loaded from a file first (a new process each time, as a user's).
DRIVER = """\
import runpy, sys
from benchmark.registry import load_module_from_file
load_module_from_file(sys.argv[1])
sys.argv = ["benchmark", "run", "--suite", sys.argv[2], "--results", sys.argv[3]]
runpy.run_module("benchmark", run_name="__main__")
"""


@pytest.mark.slow
def test_editing_a_task_modules_reading_code_reruns_its_run_and_changes_the_leaderboard(
        task_module: Path, tmp_path: Path) -> None:
    suite, results = tmp_path / "suite.yaml", tmp_path / "results"
    suite.write_text(SUITE)
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> tuple[str, float]:
        out = subprocess.run([sys.executable, "-c", DRIVER, str(task_module), str(suite), str(results)],
                             cwd=REPO, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        board = pd.read_csv(results / "leaderboards/per_task.csv")
        return out.stdout, float(board["accuracy_mean"].iloc[0])

    first, learned = run()
    assert "1 runs: 1 ran" in first
    _edit(task_module, "    bunch = load_digits()\n", "    bunch = load_digits()  # a comment: no rerun\n")
    second, same = run()
    assert "1 runs: 0 ran, 1 already done" in second and same == learned
    # The reading code now blanks every image: the run is redone and the number falls to chance.
    _edit(task_module, "    pixels = np.rint(", "    pixels = 0 * np.rint(")
    third, blank = run()
    assert "1 runs: 1 ran, 0 already done" in third
    assert blank < learned and blank <= 0.3


SUITE_PROBE = SUITE.replace("name: keys_e2e", "name: keys_probe_e2e").replace(
    "tasks: [digits_copy]", "tasks: [digits]").replace("methods: [target_only]", "methods: [keys_probe]")


@pytest.mark.slow
def test_editing_a_helper_a_method_imports_reruns_its_run_and_changes_the_leaderboard(
        plugin: tuple[Path, Path], tmp_path: Path) -> None:
    method_file, helper = plugin
    suite, results = tmp_path / "suite.yaml", tmp_path / "results"
    suite.write_text(SUITE_PROBE)
    env = {**os.environ, "BENCHMARK_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(helper.parent)}

    def run() -> tuple[str, float]:
        out = subprocess.run([sys.executable, "-c", DRIVER, str(method_file), str(suite), str(results)],
                             cwd=REPO, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        board = pd.read_csv(results / "leaderboards/per_task.csv")
        return out.stdout, float(board.loc[board["method"] == "keys_probe", "accuracy_mean"].iloc[0])

    first, learned = run()
    assert "1 ran, 0 already done" in first
    _edit(helper, "    return lr * 1.0\n", "    # only a comment: nothing reruns\n    return lr * 1.0\n")
    second, same = run()
    assert "0 ran, 1 already done" in second and same == learned
    _edit(helper, "lr * 1.0", "lr * 30.0")  # the method now trains its trunk far harder
    third, changed = run()
    assert "1 ran, 0 already done" in third and changed != learned
