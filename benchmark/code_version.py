"""Code versions: the fingerprint of the code that computes a run's numbers.

Code is fingerprinted by its syntax tree without docstrings, so editing a comment or a
docstring keeps every stored run and cached model; changing what the code does invalidates
them. Standard library only, so the backbones (their stem cache), the run keys and the run
store (and the analysis that reads it) share one fingerprint without importing each other.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
from collections.abc import Iterable
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: The code that computes the (cached) stem states: the backbones.
BACKBONE_CODE: tuple[Path, ...] = tuple(_PACKAGE / "models/backbones" / p for p in ("base.py", "text.py", "image.py"))

#: The code every run's numbers depend on besides its method's own file: the training loop,
#: the backbones, the method API, weight merging, the workspace (data subsamples, stem states, source models)
#: and the execution of one run (context, prediction).
RUN_CODE: tuple[Path, ...] = (*(_PACKAGE / p for p in ("models/training.py", "models/method.py", "models/merging.py")),
                              *BACKBONE_CODE,
                              *(_PACKAGE / p for p in ("runs/workspace.py", "runs/execute.py")))


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def _file_fingerprint(path: Path) -> str:
    tree = _strip_docstrings(ast.parse(path.read_text(encoding="utf-8")))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def code_fingerprint(files: Iterable[Path]) -> str:
    """Hash of the syntax trees of ``files`` (comments and docstrings ignored)."""
    h = hashlib.sha256()
    for f in files:
        h.update(_file_fingerprint(Path(f)).encode())
    return h.hexdigest()[:16]


def method_code_version(method_cls: type) -> str:
    """Fingerprint of the code that determines a method's numbers (shared code + its file)."""
    source = inspect.getsourcefile(method_cls)
    return code_fingerprint([*RUN_CODE, *([Path(source)] if source else [])])


@functools.cache
def stem_code_version() -> str:
    """Fingerprint of the code that computes cached stem states (the backbones)."""
    return code_fingerprint(BACKBONE_CODE)


def run_code_version(method_file: str | Path) -> str:
    """:func:`method_code_version` of the method defined in ``method_file``."""
    return code_fingerprint([*RUN_CODE, Path(method_file)])
