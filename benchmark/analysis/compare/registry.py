"""The importer registry: one reader per input format, registered with a decorator.

An importer is a function ``(paths, **options) -> Evaluations`` (shapes in
:class:`~benchmark.analysis.compare.evaluations.Evaluations`). The modules of
``benchmark.analysis.compare.importers`` are imported on first use (no import list); a pip package
adds one through the entry-point group ``benchmark.importers``::

    @register_importer("my-harness")
    def read_my_harness(paths: Sequence[str], **options: Any) -> Evaluations: ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from benchmark.analysis.compare.evaluations import Evaluations
from benchmark.registry import Registry

Importer = Callable[..., Evaluations]

#: name -> importer (``compare --from NAME``).
IMPORTERS: Registry[Importer] = Registry("importer", "benchmark.analysis.compare.importers", "benchmark.importers")


def register_importer(name: str) -> Callable[[Importer], Importer]:
    """Decorator registering an importer under ``name`` (``compare --from NAME``)."""
    return IMPORTERS.register(name)


def read(name: str, paths: Sequence[str], **options: Any) -> Evaluations:
    """Read ``paths`` with the importer ``name`` (unknown names: one line with a did-you-mean)."""
    return IMPORTERS.get(name)(paths, **options)
