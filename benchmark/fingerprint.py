"""Fingerprints: the content keys of runs, fits, stems, transferability scores and data caches.

One module serves every key, so they cannot disagree on what "the same code" or "the same
data" means:

- :func:`content_hash` of a JSON-able object (a key's parts).
- :func:`code_fingerprint` of the code a set of root files runs: the normalised syntax trees
  (docstrings stripped, comments absent, no line numbers) of the transitive closure of the
  project modules they import, found by reading their imports (module level and inside
  functions), not from a hand-kept list. Project code is any ``.py`` file outside the
  standard library and site-packages: the ``benchmark`` package, ``baselines/``, ``tasks/``,
  a user's plug-in file and the helpers beside it. Library versions are recorded apart.
- :func:`files_fingerprint` of the bytes of data files and folders (a YAML task's
  declaration and data).
- :func:`draw_fingerprint` / :func:`split_fingerprint` of a data draw's rows (every column).
- :func:`recorded_code_version` of a run from the files its ``run.json`` records, so the store's
  staleness check recomputes exactly what the run key hashed.

Standard library only at import time (data, models, runs and analysis all import it).
Closures and file hashes are cached for the process: a process runs the code it imported
when it started, so the fingerprint it first read is the one that describes it
(:func:`forget` drops the caches, e.g. in tests that edit files).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datasets

_PACKAGE = Path(__file__).resolve().parent
#: The code that executes a run (its closure brings the workspace, training, backbones...).
RUN_ENTRY = _PACKAGE / "runs" / "execute.py"
#: The code that trains the shared reference fits (source models, target fits).
FIT_ENTRY = _PACKAGE / "runs" / "workspace.py"

_LIBRARY_ROOTS = tuple(Path(p).resolve() for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")})


def content_hash(obj: Any) -> str:
    """Stable hash of a JSON-able object (keys sorted), 24 hex digits."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


# --- code --------------------------------------------------------------------------------------

def _is_project_file(path: Path) -> bool:
    """A ``.py`` file that is neither standard library nor an installed package."""
    if path.suffix != ".py" or not path.is_file():
        return False
    if {"site-packages", "dist-packages"} & set(path.parts):
        return False
    return not any(path.is_relative_to(root) for root in _LIBRARY_ROOTS)


def _module_file(folder: Path, name: str) -> Path | None:
    """``folder/name.py`` or ``folder/name/__init__.py``, whichever exists."""
    for candidate in (folder / f"{name}.py", folder / name / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


@functools.cache
def _top_level(name: str) -> tuple[Path, ...]:
    """The folders that hold a top-level module or package ``name``. Empty when it is not
    project code (a library, a built-in, or not found)."""
    try:
        spec = importlib.util.find_spec(name)  # a top-level name: finds it, imports nothing
    except (ImportError, ValueError):
        return ()
    if spec is None:
        return ()
    if spec.submodule_search_locations:  # a package (perhaps a namespace package)
        folders = [Path(p).resolve() for p in spec.submodule_search_locations]
        library = [f for f in folders if not _is_project_file(f / "__init__.py") and not _is_project_folder(f)]
        return () if library else tuple(f.parent for f in folders)
    return (Path(spec.origin).resolve().parent,) if spec.origin and _is_project_file(Path(spec.origin)) else ()


def _is_project_folder(folder: Path) -> bool:
    return not ({"site-packages", "dist-packages"} & set(folder.parts)) and \
        not any(folder.is_relative_to(root) for root in _LIBRARY_ROOTS)


def _resolve(dotted: str, beside: Path) -> list[Path]:
    """Project files that ``import dotted`` executes: every package ``__init__`` on the way and
    the module itself. A name not found on the path is looked for beside the importing file
    (a plug-in's helper next to it)."""
    first, *rest = dotted.split(".")
    folders = list(_top_level(first))
    if not folders and _module_file(beside, first):
        folders = [beside]
    files: list[Path] = []
    parts = [first, *rest]
    for i, part in enumerate(parts):
        found = next((f for f in (_module_file(d, part) for d in folders) if f), None)
        if found is None:
            # A namespace package holds no file of its own; otherwise stop where the path ends.
            folders = [d / part for d in folders if (d / part).is_dir()]
            if not folders:
                break
            continue
        files.append(found)
        if i < len(parts) - 1:
            folders = [found.parent] if found.name == "__init__.py" else []
    return [f for f in files if _is_project_file(f)]


def _lazy_exports(path: Path) -> dict[str, str] | None:
    """``name -> defining module`` of a module that re-exports lazily (a module-level
    ``__getattr__``), read from its ``_EXPORTS`` dict literal; None for an ordinary module."""
    tree = _parse(path)
    if not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
        return None
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value_node = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value_node = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "_EXPORTS":
            value = ast.literal_eval(value_node)
            if isinstance(value, dict):
                return {str(k): str(v) for k, v in value.items()}
    return {}


def _reexported(module: str | None, path: Path, name: str) -> str | None:
    """The module that defines ``name`` when ``module`` (at ``path``) re-exports it lazily."""
    exports = _lazy_exports(path)
    if exports is None:
        return None
    if name in exports:
        return exports[name]
    if module is None:
        return None
    try:  # no table: ask the module (imports it)
        value = getattr(importlib.import_module(module), name)
    except Exception:  # noqa: BLE001 - an unresolvable name leaves the module itself as the dependency
        return None
    if inspect.ismodule(value):
        return value.__name__
    return getattr(value, "__module__", None) if inspect.isclass(value) or inspect.isfunction(value) else None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import in ``tree`` (functions included) except those under ``if TYPE_CHECKING:``,
    which only type checkers run."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


@functools.cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@functools.cache
def _direct_imports(path: Path) -> frozenset[Path]:
    """The project files ``path``'s imports execute (one step, not transitive)."""
    out: list[Path] = []
    for node in _import_nodes(_parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out += _resolve(alias.name, path.parent)
            continue
        if node.level:  # relative: from the importing file's package folder up
            folder: Path | None = path.parent
            for _ in range(node.level - 1):
                folder = folder.parent if folder else None
            files = [folder / "__init__.py"] if folder and (folder / "__init__.py").is_file() else []
            for part in node.module.split(".") if node.module else []:
                found = _module_file(folder, part) if folder else None
                if found is None:
                    folder = None
                    break
                files.append(found)
                folder = found.parent if found.name == "__init__.py" else None
            module_name = None
        else:
            module_name = node.module or ""
            files = _resolve(module_name, path.parent)
            folder = files[-1].parent if files and files[-1].name == "__init__.py" else None
        out += files
        for alias in node.names:
            sub = _module_file(folder, alias.name) if folder is not None else None
            if sub is not None:  # ``from package import submodule``
                out.append(sub)
            elif files:
                defining = _reexported(module_name, files[-1], alias.name)
                if defining:
                    out += _resolve(defining, path.parent)
    return frozenset(f for f in out if f != path)


@functools.cache
def _closure(root: Path) -> frozenset[Path]:
    seen = {root}
    todo = [root]
    while todo:
        for dep in _direct_imports(todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return frozenset(seen)


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def _tree_hash(path: Path) -> str:
    tree = _strip_docstrings(ast.parse(path.read_text(encoding="utf-8")))  # a fresh tree: this one is edited
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def code_closure(roots: Iterable[str | Path]) -> list[Path]:
    """The project files ``roots`` run: the roots and every project module they import, at
    any depth (sorted, resolved paths)."""
    files: set[Path] = set()
    for root in roots:
        files |= _closure(Path(root).resolve())
    return sorted(files)


def code_fingerprint(roots: Iterable[str | Path]) -> str:
    """Hash (16 hex digits) of the syntax trees of :func:`code_closure` ``(roots)``: comments,
    docstrings, formatting and where the files live do not change it; what the code does does."""
    return _fingerprint(frozenset(Path(root).resolve() for root in roots))


@functools.cache
def _fingerprint(roots: frozenset[Path]) -> str:
    trees = sorted(_tree_hash(f) for f in code_closure(roots))  # by content: independent of paths
    return hashlib.sha256("\n".join(trees).encode()).hexdigest()[:16]


def forget() -> None:
    """Drop the cached closures and hashes, so edited files are read again (as a new process would)."""
    for cached in (_top_level, _parse, _direct_imports, _closure, _tree_hash, _fingerprint, _file_bytes_hash):
        cached.cache_clear()


# --- data files --------------------------------------------------------------------------------

@functools.cache
def _file_bytes_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative path and bytes, sorted)."""
    h = hashlib.sha256()
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(member.relative_to(path).as_posix().encode() + b"\x00")
            h.update(_file_bytes_hash(member).encode())
        return h.hexdigest()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the bytes of a file (a folder: of its files, by relative path)."""
    return _file_bytes_hash(Path(path).resolve())


def files_fingerprint(paths: Iterable[str | Path]) -> str:
    """Hash (16 hex digits) of the bytes of ``paths`` in order (files or folders)."""
    return hashlib.sha256("\n".join(file_sha256(p) for p in paths).encode()).hexdigest()[:16]


def recorded_code_version(plugins: Mapping[str, Any], entry: str | Path = RUN_ENTRY) -> str | None:
    """The code (and task declaration) fingerprint of a run from the files its ``run.json``
    records under ``plugins`` (``{"method": {file}, "tasks": {name: {file, data: [{file}]}}}``):
    :func:`code_fingerprint` of ``entry`` (the code that executes it), the method's module and
    each Python task's module, with the bytes of each YAML task's declaration and data files.
    None when a recorded file is not at hand (results from another machine: cannot judge)."""
    method = (plugins.get("method") or {}).get("file")
    code: list[Path] = [Path(entry), *([Path(method)] if method else [])]
    data: list[Path] = []
    for name in sorted(plugins.get("tasks") or {}):
        record = plugins["tasks"][name] or {}
        if record.get("file"):
            (code if str(record["file"]).endswith(".py") else data).append(Path(record["file"]))
        data += [Path(d["file"]) for d in record.get("data") or ()]
    if not all(p.exists() for p in (*code, *data)):
        return None
    if not data:
        return code_fingerprint(code)
    return hashlib.sha256(f"{code_fingerprint(code)}\n{files_fingerprint(data)}".encode()).hexdigest()[:16]


# --- data draws --------------------------------------------------------------------------------

def split_fingerprint(ds: datasets.Dataset) -> str:
    """SHA-256 of a split's rows as they are (after any selection): every column, in order
    (ids, labels *and* inputs: texts, sentence pairs, image bytes)."""
    import pyarrow as pa  # heavy: only the callers that hash data pay for it

    table = ds.with_format("arrow")[:]  # the selected rows, materialised
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def draw_fingerprint(dd: datasets.DatasetDict) -> str:
    """Hash (24 hex digits) of every split of a draw (see :func:`split_fingerprint`), by
    split name: texts that change under the same ids and labels are new data."""
    h = hashlib.sha256()
    for name in sorted(dd):
        h.update(name.encode() + b"\x00" + split_fingerprint(dd[name]).encode())
    return h.hexdigest()[:24]
