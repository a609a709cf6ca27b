"""One ``run`` per results folder: the writer holds ``<results>/.run.lock`` while it writes.

The lock is an advisory ``flock`` on that file, so the kernel releases it when its holder
exits in any way (a crash, SIGKILL): a lock left behind is never stale. The file names the
holder (pid, host, start time, command) for the message a second ``run`` gets. Readers
(``leaderboard``, ``report``) take no lock: a run becomes visible only when its ``run.json``
is moved into place, so they always read whole runs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.runs.layout import ResultsLayout

log = logging.getLogger(__name__)

LOCK_FILENAME = ResultsLayout(Path()).lock.name  # the layout owns every path


class ResultsBusy(BenchmarkError):
    """Another ``run`` is writing this results folder."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, since {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"


@contextmanager
def results_lock(results_dir: str | os.PathLike[str], wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the results folder's write lock; wait up to ``wait_seconds`` for it, then raise
    :class:`ResultsBusy` naming the holder."""
    folder = Path(results_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BenchmarkError(f"cannot write to results folder {folder} ({exc.strerror}); "
                             "make it writable or pass another --results.") from None
    path = folder / LOCK_FILENAME
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ResultsBusy(
                        f"results folder {folder} is being written by another run ({_holder(path)}); "
                        "wait for it (run --wait SECONDS) or pass another --results."
                    ) from None
                time.sleep(0.2)
        if os.fstat(fd).st_size:  # the last holder did not clean up: it died while running
            log.warning("taking over the lock of a run that ended without releasing it (%s)", _holder(path))
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"), "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
