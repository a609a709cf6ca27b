"""User-facing errors: each says in one line what is wrong and what to do about it."""

from __future__ import annotations

import difflib
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
