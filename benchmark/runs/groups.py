"""Fusion groups: K >= 2 tasks fused at once, and the name of a run's set of source tasks.

A suite lists groups beside its pairs (:mod:`benchmark.runs.suite_yaml` reads them)::

    groups: ["mnist, fashion_mnist -> digits",      # many -> one: K sources into one target
             "merge: mnist, digits, fashion_mnist"] # merge all: K task models merged into one

A pair is the K = 1 case of many -> one, so a run names its sources by a *source set*: the
sorted task names joined by ``+`` (:data:`SOURCE_SEPARATOR`, a character no task name has:
a YAML task's name is letters, digits, ``_``, ``.`` and ``-``, and a control's adds ``~``).
The source set of one task is that task's name, so a pair's run folder, ``run.json`` and CSV
rows are what they were before groups existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

SOURCE_SEPARATOR = "+"
"""Joins the task names of a source set (``digits+fashion_mnist``)."""

GroupKind = Literal["many-to-one", "merge-all"]

_MERGE_RE = re.compile(r"^\s*merge\s*:(.*)$")
_ARROW_RE = re.compile(r"^(.*?)->(.*)$")


def source_set(names: Iterable[str]) -> str:
    """The canonical name of a set of source tasks: sorted, joined by ``+``; one task's is its
    name. Raises ValueError for an empty set, a repeated task or a name holding ``+``."""
    names = list(names)
    if not names:
        raise ValueError("a source set names at least one task")
    for name in names:
        if not name or SOURCE_SEPARATOR in name:
            raise ValueError(f"task name {name!r} cannot be in a source set: it is empty or holds "
                             f"{SOURCE_SEPARATOR!r}, which joins the names of a source set")
    if len(set(names)) != len(names):
        raise ValueError(f"source set {names} names a task twice")
    return SOURCE_SEPARATOR.join(sorted(names))


def split_source_set(name: str) -> tuple[str, ...]:
    """The task names of a source set's name (``"a+b"`` -> ``("a", "b")``; ``"a"`` -> ``("a",)``)."""
    return tuple(name.split(SOURCE_SEPARATOR))


@dataclass(frozen=True, order=True)
class Group:
    """A fusion group of a suite.

    ``kind`` ``many-to-one``: ``sources`` (K >= 2, sorted) fused into ``target``;
    ``merge-all``: the K ``sources`` merged into one model evaluated on each of them
    (``target`` is None). Validated against the suite by the suite loader."""

    kind: GroupKind
    sources: tuple[str, ...]
    target: str | None = None

    @property
    def source_set(self) -> str:
        """The name runs and folders give this group's sources (see :func:`source_set`)."""
        return source_set(self.sources)

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task the group names: its sources, then its target (if any)."""
        return self.sources + ((self.target,) if self.target is not None else ())

    def label(self) -> str:
        """The group as a suite file writes it (sources sorted)."""
        if self.kind == "merge-all":
            return "merge: " + ", ".join(self.sources)
        return f"{', '.join(self.sources)} -> {self.target}"


def parse_group(text: str) -> Group:
    """``"a, b -> t"`` or ``"merge: a, b, c"`` -> :class:`Group`, sources sorted. Checks the
    syntax only (the suite loader checks the names); raises ValueError saying what is wrong."""
    merge = _MERGE_RE.match(text)
    arrow = None if merge else _ARROW_RE.match(text)
    found = merge or arrow
    if found is None:
        raise ValueError("is neither 'a, b -> target' (many -> one) nor 'merge: a, b, c' (merge all)")
    names = [n.strip() for n in found.group(1).split(",")]
    if any(not n for n in names):
        raise ValueError("has an empty task name (a stray ',')")
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"names {', '.join(twice)} twice")
    if merge:
        if len(names) < 2:
            raise ValueError(f"merges {len(names)} task; a merge-all group merges K >= 2 tasks")
        return Group("merge-all", tuple(sorted(names)))
    assert arrow is not None
    target = arrow.group(2).strip()
    if not target or "," in target or "->" in target:
        raise ValueError("must name exactly one target after '->'")
    if len(names) < 2:
        raise ValueError("has 1 source; a group fuses K >= 2 sources (list one source under 'pairs')")
    if target in names:
        raise ValueError(f"lists its target {target!r} among its sources")
    return Group("many-to-one", tuple(sorted(names)), target)
