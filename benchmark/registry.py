"""A name -> plug-in registry shared by tasks, methods and backbones.

Plug-ins register themselves with a decorator. The registry imports every module of its
plug-in package (``benchmark.tasks``, ``benchmark.baselines``) on first use, so nobody
keeps an import list, and loads third-party plug-ins from a Python entry-point group.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import pkgutil
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Generic, TypeVar

from benchmark.errors import BenchmarkError, unknown_name

log = logging.getLogger(__name__)

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to plug-ins of one kind.

    Args:
        kind: what is registered, used in error messages ("task", "method").
        package: dotted package whose modules are imported to populate the registry.
        entry_point_group: entry-point group third-party packages register under.
    """

    def __init__(self, kind: str, package: str | None = None, entry_point_group: str | None = None):
        self.kind = kind
        self.package = package
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a second, different one is an error."""

        def decorator(obj: T) -> T:
            origin = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
            if name in self._items and self._origins[name] != origin:
                raise BenchmarkError(
                    f"{self.kind} {name!r} is registered twice ({self._origins[name]} and "
                    f"{origin}); rename one of them."
                )
            self._items[name] = obj
            self._origins[name] = origin
            return obj

        return decorator

    def load(self) -> None:
        """Import the plug-in package and entry points once."""
        if self._loaded:
            return
        self._loaded = True
        if self.package:
            pkg = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(pkg.__path__, prefix=f"{self.package}."):
                if not info.name.rsplit(".", 1)[-1].startswith("_"):
                    importlib.import_module(info.name)
        if self.entry_point_group:
            for ep in entry_points(group=self.entry_point_group):
                try:
                    ep.load()
                except Exception as exc:  # a broken third-party plug-in must not hide the rest
                    log.error("could not load %s plug-in %r from entry point: %s", self.kind, ep.name, exc)

    def get(self, name: str) -> T:
        self.load()
        if name not in self._items:
            raise unknown_name(self.kind, name, self._items)
        return self._items[name]

    def names(self) -> list[str]:
        self.load()
        return sorted(self._items)

    def origin(self, name: str) -> str:
        self.get(name)
        return self._origins[name]

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def unregister(self, name: str) -> None:
        """Remove a plug-in (used by ``validate`` to load a file without polluting the registry)."""
        self._items.pop(name, None)
        self._origins.pop(name, None)


_loaded_files: dict[str, str] = {}  # plug-in file -> its module's name, in load order


def loaded_plugin_files() -> list[str]:
    """The plug-in files :func:`load_module_from_file` imported in this process, in order
    (the fit process loads them too, so their classes unpickle there)."""
    return list(_loaded_files)


def plugin_module_name(path: str | Path) -> str:
    """The module name of the plug-in file at ``path`` (resolved): from its path, so the same in every process."""
    path = Path(path).resolve()
    return f"benchmark_plugin_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"


def load_module_from_file(path: str | Path) -> ModuleType:
    """Import a single Python file as a module (used for plug-in files outside the package).
    Its module name is derived from its path, the same in every process."""
    path = Path(path).resolve()
    if not path.is_file() or path.suffix != ".py":
        raise BenchmarkError(f"{path} is not a Python file; pass the path of a .py file.")
    module_name = plugin_module_name(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise BenchmarkError(f"cannot import {path}; is it a valid Python file?")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    _loaded_files[str(path)] = module_name
    return module
