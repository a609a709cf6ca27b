"""The package's shape: its rooms are fixed, imports flow data -> models -> runs -> analysis ->
pipeline, plug-ins use only ``benchmark.api``, no import cycle, short modules. Read from the
source, nothing is imported."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "benchmark"
MAX_LINES = 400
#: The package's rooms (the flow) and the few shared modules at its top; a new module goes in a room.
ROOMS = {"data", "models", "runs", "analysis", "pipeline"}
TOP_LEVEL = {"__init__.py", "__main__.py", "api.py", "cli.py", "errors.py", "faults.py", "files.py",
             "fingerprint.py", "paths.py", "registry.py", "validate.py"}

# layer -> benchmark modules it must never import (any depth, including lazy imports)
FORBIDDEN = {
    "benchmark.analysis.stats": ("benchmark.data", "benchmark.models", "benchmark.runs",
                                 "benchmark.analysis.leaderboard", "benchmark.analysis.report", "benchmark.cli"),
    "benchmark.data": ("benchmark.models", "benchmark.runs", "benchmark.analysis", "benchmark.pipeline",
                       "benchmark.cli"),
    "benchmark.models": ("benchmark.runs", "benchmark.analysis", "benchmark.pipeline", "benchmark.cli"),
    "benchmark.runs": ("benchmark.analysis", "benchmark.pipeline", "benchmark.cli"),
    "benchmark.analysis": ("benchmark.data", "benchmark.models", "benchmark.runs.workspace", "benchmark.runs.execute",
                           "benchmark.runs.runner", "benchmark.runs.executor", "benchmark.pipeline",
                           "benchmark.cli"),
    "benchmark.pipeline": ("benchmark.cli",),
}
# numpy, scipy and the standard library, minus what would touch files, logs or global randomness
STATS_ALLOWED = ({"numpy", "scipy"} | set(sys.stdlib_module_names) | {"__future__"}) - {
    "os", "io", "pathlib", "logging", "random", "shutil", "tempfile", "json", "pickle", "sys"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_layers_import_only_downstream() -> None:
    problems = []
    for name, path in _modules().items():
        for layer, banned in FORBIDDEN.items():
            if name == layer or name.startswith(layer + "."):
                problems += [f"{name} imports {imp}" for imp in _imports(path)
                             if any(imp == b or imp.startswith(b + ".") for b in banned)]
    assert not problems, problems


def test_statistics_import_numpy_and_scipy_only() -> None:
    for name, path in _modules().items():
        if name.startswith("benchmark.analysis.stats"):
            roots = {imp.split(".")[0] for imp in _imports(path) if not imp.startswith("benchmark.analysis.stats")}
            assert roots <= STATS_ALLOWED, (name, roots - STATS_ALLOWED)


@pytest.mark.parametrize("folder", ["baselines", "tasks"])
def test_plug_ins_import_only_the_public_api(folder: str) -> None:
    for path in (REPO / folder).glob("*.py"):
        own = {imp for imp in _imports(path) if imp.split(".")[0] == "benchmark"}
        assert {imp.split(".")[1] for imp in own} <= {"api"}, (path.name, own)


def test_no_import_cycle() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for imp in _imports(path):
            # "from benchmark.x import y" names module benchmark.x.y when it exists, else benchmark.x
            target = imp if imp in modules else imp.rsplit(".", 1)[0]
            if target in modules and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(modules):
        if node not in state:
            visit(node)


def test_modules_stay_short_and_folders_say_what_they_hold() -> None:
    for name, path in _modules().items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= MAX_LINES, f"{name}: {n} lines"
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.relative_to(REPO)} needs a docstring saying what it holds"


def test_the_package_has_its_rooms_and_nothing_else_at_the_top() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.name for p in PACKAGE.glob("*.py")}
    assert rooms == ROOMS, f"rooms {sorted(rooms)}; put new code in one of {sorted(ROOMS)}"
    assert modules <= TOP_LEVEL, f"{sorted(modules - TOP_LEVEL)} belong in a room ({sorted(ROOMS)})"


def test_only_the_cli_and_the_pipeline_chain_the_stages() -> None:
    """The flow (runs -> transferability -> outputs) is chained in ``benchmark.pipeline`` only:
    nothing else imports both the runner and the output stage."""
    chained = []
    for name, path in _modules().items():
        imports = _imports(path)
        runs = any(i.startswith("benchmark.runs.runner") for i in imports)
        outputs = any(i.startswith(("benchmark.analysis.outputs", "benchmark.pipeline.transferability"))
                      for i in imports)
        if runs and outputs and not name.startswith("benchmark.pipeline"):
            chained.append(name)
    assert not chained, f"{chained} chain the pipeline's stages; call benchmark.pipeline.run_pipeline instead"
