"""User-facing errors: each says in one line what is wrong and what to do about it."""

from __future__ import annotations

import difflib
import errno
import re
from collections.abc import Iterable


class BenchmarkError(Exception):
    """An error caused by input the user controls; the CLI prints it as one line."""


class UnknownNameError(BenchmarkError):
    """A task, method, suite, backbone or hyperparameter name that is not registered."""


class DataError(BenchmarkError):
    """A data file or data source that is malformed (missing column, unknown label...)."""


class SourceUnavailable(BenchmarkError):
    """A data source or model that cannot be loaded on this machine (missing package...)."""


class ConfigError(BenchmarkError):
    """A bad hyperparameter, suite or command-line setting."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str], where: str = "") -> UnknownNameError:
    """Build the standard error for an unregistered name, with a did-you-mean.

    ``where`` narrows the place, e.g. ``"in suite 'smoke'"``: "unknown task 'x' in suite
    'smoke'. Did you mean 'y'? Known tasks: ...".
    """
    choices = sorted(choices)
    place = f" {where}" if where else ""
    return UnknownNameError(
        f"unknown {kind} {name!r}{place}.{did_you_mean(name, choices)} "
        f"Known {kind}s{place}: {', '.join(choices) if choices else '(none)'}."
    )


class EnvironmentFault(BenchmarkError):
    """A fault of the machine or its environment (a device torch cannot use, a cache folder
    or HOME that cannot be written, a full disk), not of a run: the CLI exits 4 and no run is
    recorded as failed because of it."""


#: errno values of an OSError that the machine causes, whatever the run does.
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})
#: What the error text of such a fault says (records of older versions keep only the text).
_ENVIRONMENT_TEXT = re.compile(
    r"Read-only file system|No space left|Disk quota exceeded|PermissionError|Permission denied"
    r"|NVIDIA driver|CUDA driver|no CUDA GPUs|CUDA error|not compiled with (CUDA|XPU|MPS)"
    r"|MPS backend|device type at start of device string|cuDNN error", re.IGNORECASE)


def environment_cause(exc: BaseException | str) -> str | None:
    """One line naming the machine's fault behind ``exc`` (an exception, or the ``error``
    text of an older run record), or None when it is the run's own failure. A CUDA
    out-of-memory error is the run's (its batch size), not the machine's."""
    if isinstance(exc, EnvironmentFault):
        return str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, str) and exc.errno in _ENVIRONMENT_ERRNOS:
        where = f" {exc.filename}" if exc.filename else ""
        return f"file system error{where}: {exc.strerror or exc}"
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower() or not _ENVIRONMENT_TEXT.search(text):
        return None
    return text.splitlines()[0][:300] if text else None
