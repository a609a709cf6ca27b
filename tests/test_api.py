"""The plug-in API: lazy at run time, real types for checkers, and the two views kept equal."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import benchmark.api as api

API_FILE = Path(api.__file__)


def _type_checking_imports() -> dict[str, str]:
    """``name -> module`` of every ``from M import X as X`` under ``if TYPE_CHECKING:``."""
    tree = ast.parse(API_FILE.read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                for alias in stmt.names:
                    # "X as X" is the explicit re-export mypy and ruff recognise.
                    assert alias.asname == alias.name, f"write 'import {alias.name} as {alias.name}'"
                    found[alias.name] = stmt.module
    return found


def test_every_export_is_imported_for_type_checkers_from_its_module() -> None:
    imported = _type_checking_imports()
    assert set(imported) == set(api._EXPORTS), (
        f"missing under TYPE_CHECKING: {sorted(set(api._EXPORTS) - set(imported))}; "
        f"not in _EXPORTS: {sorted(set(imported) - set(api._EXPORTS))}"
    )
    for name, module in api._EXPORTS.items():
        # A module export (nli_generator) is imported from its parent package.
        expected = module.rsplit(".", 1)[0] if module.endswith("." + name) else module
        assert imported[name] == expected, name


def test_every_export_resolves_to_the_defining_object() -> None:
    for name, module_name in api._EXPORTS.items():
        module = importlib.import_module(module_name)
        expected = module if module_name.endswith("." + name) else getattr(module, name)
        assert getattr(api, name) is expected, name
    assert sorted(dir(api)) == sorted(api._EXPORTS)


def test_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no 'fitt'"):
        api.fitt  # noqa: B018


def test_a_task_file_import_does_not_load_torch() -> None:
    code = ("import sys; from benchmark.api import OfflineSource, Task, register_task; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=API_FILE.parents[1])
    assert out.stdout.strip() == "False"
