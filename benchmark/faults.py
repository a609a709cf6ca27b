"""Fault injection: named points where a test makes this process die or raise.

``BENCHMARK_FAULTS`` holds ``point=action`` entries separated by ``;``, each optionally
followed by ``#k`` and ``@marker``. ``action`` is ``exit`` (the process ends at once with
status 86, as a killed worker does), ``kill`` (the process sends itself SIGKILL: no
handler, no cleanup, as a crash or the OOM killer), ``raise`` (:class:`InjectedFault`) or
``enospc`` (``OSError`` "no space left on device", as a full disk).
With ``#k`` the fault fires only the k-th time this process reaches the point. With
``@marker`` (a file path) it fires only while the marker does not exist and creates it
first, so it fires once across every process that shares the file system. Unset, a fault
point costs one environment lookup.

The points (``benchmark/faults.py`` callers): ``atomic_write.partial`` (half a file's bytes
written to its temporary file), ``atomic_write.before_replace`` (the temporary file complete,
not yet moved into place), ``store.run_json_removed`` (a rerun's old ``run.json`` deleted,
predictions not yet written), ``store.predictions_written`` (predictions in place,
``run.json`` not), ``train.epoch`` (after each training epoch, sources included),
``stem_cache.before_replace``, ``fit.before_replace``, ``runner.after_run`` (a run
stored), ``ray.source`` and ``ray.run`` (in Ray tasks).
"""

from __future__ import annotations

import errno
import os
import signal
from collections import Counter
from pathlib import Path

ENV_VAR = "BENCHMARK_FAULTS"
EXIT_STATUS = 86
ACTIONS = ("exit", "kill", "raise", "enospc")

_reached: Counter[str] = Counter()  # per process: how often each point was reached


class InjectedFault(RuntimeError):
    """Raised at a fault point whose action is ``raise``."""


def fault_point(point: str) -> None:
    """Die or raise here when ``BENCHMARK_FAULTS`` names ``point``; otherwise do nothing."""
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    _reached[point] += 1
    for entry in spec.split(";"):
        name, _, rest = entry.partition("=")
        if name.strip() != point:
            continue
        rest, _, marker = rest.strip().partition("@")
        action, _, nth = rest.partition("#")
        if action not in ACTIONS:
            raise ValueError(f"{ENV_VAR}: action {action!r} at {point!r} must be one of {', '.join(ACTIONS)}")
        if nth and int(nth) != _reached[point]:
            continue
        if marker:
            try:  # exclusive create: exactly one process fires a once-only fault
                Path(marker).open("x").close()
            except FileExistsError:
                continue
        if action == "exit":
            os._exit(EXIT_STATUS)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device (injected)", f"at {point}")
        raise InjectedFault(f"injected fault at {point}")
