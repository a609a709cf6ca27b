"""Fault injection: named points where a test makes this process die or raise.

``BENCHMARK_FAULTS`` holds ``point=action`` or ``point=action@marker`` entries separated by
``;``. ``action`` is ``exit`` (the process ends at once with status 86, as a killed worker
does) or ``raise`` (:class:`InjectedFault`). With ``@marker`` (a file path) the fault fires
only while the marker does not exist and creates it first, so it fires once across every
process that shares the file system. Unset, a fault point costs one environment lookup.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "BENCHMARK_FAULTS"
EXIT_STATUS = 86
ACTIONS = ("exit", "raise")


class InjectedFault(RuntimeError):
    """Raised at a fault point whose action is ``raise``."""


def fault_point(point: str) -> None:
    """Die or raise here when ``BENCHMARK_FAULTS`` names ``point``; otherwise do nothing."""
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    for entry in spec.split(";"):
        name, _, rest = entry.partition("=")
        if name.strip() != point:
            continue
        action, _, marker = rest.strip().partition("@")
        if action not in ACTIONS:
            raise ValueError(f"{ENV_VAR}: action {action!r} at {point!r} must be one of {', '.join(ACTIONS)}")
        if marker:
            try:  # exclusive create: exactly one process fires a once-only fault
                Path(marker).open("x").close()
            except FileExistsError:
                continue
        if action == "exit":
            os._exit(EXIT_STATUS)
        raise InjectedFault(f"injected fault at {point}")
