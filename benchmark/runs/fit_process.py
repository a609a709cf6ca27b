"""Fit methods in a process that never holds the test split.

Every ``method.fit(ctx)`` runs in one long-lived worker process started with ``spawn`` (a
fresh interpreter, not a fork of the harness). The harness pickles the method and its
:class:`~benchmark.models.method.FitContext` (training and validation states only), the
worker fits and pickles the model back, and only then does the harness load and predict
the test split. So nothing a method can reach in memory (``gc``, module globals, stack
frames, any cache) holds a test example: the worker never received one. Requests and
replies are plain pickles through a pipe, never shared memory, so a method cannot write
into the harness's cached states either.

What stays possible is reading the public data files (or other processes) directly; the
README says what guards a leaderboard against that.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import torch

from benchmark.errors import BenchmarkError, EnvironmentFault
from benchmark.registry import load_module_from_file, loaded_plugin_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitReply:
    """What a fit produced: the model (whatever ``fit`` returned) and the work it recorded."""

    model: Any
    examples_processed: int
    training: list[dict[str, object]]


class RemoteTraceback(Exception):
    """The fit process's traceback text, chained as the cause of the re-raised error."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FitProcessDied(BenchmarkError):
    """The fit process ended without replying (killed, or the method ended the process)."""

    def __init__(self, message: str, signal_number: int | None):
        super().__init__(message)
        self.signal_number = signal_number


class FitProcess:
    """One spawned worker that runs fits sent to it, one at a time."""

    def __init__(self, threads: int):
        context = multiprocessing.get_context("spawn")
        self.threads = threads
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, threads), name="benchmark-fit", daemon=True)
        self._process.start()
        child.close()

    def alive(self) -> bool:
        return self._process.is_alive()

    def fit(self, method: object, ctx: object) -> FitReply:
        """``method.fit(ctx)`` in the worker. Re-raises the method's exception (its traceback
        in the cause); raises :class:`FitProcessDied` when the worker ends without a reply."""
        # Two messages: the worker loads the plug-in files before it unpickles the method.
        header = pickle.dumps((list(sys.path), dict(os.environ), loaded_plugin_files()))
        payload = pickle.dumps((method, ctx))
        try:
            self._conn.send_bytes(header)
            self._conn.send_bytes(payload)
            del payload
            status, payload = pickle.loads(self._conn.recv_bytes())
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._process.join(timeout=30)
            raise _died(self._process.exitcode) from None
        if status == "error":
            exc, text = payload
            raise exc from RemoteTraceback(text)
        reply: FitReply = payload
        return reply

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.close()
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()


def _died(exitcode: int | None) -> FitProcessDied:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory, or killed from outside)" if name == "SIGKILL" else ""
        return FitProcessDied(f"the fit process was killed by {name}{hint}", -exitcode)
    return FitProcessDied(f"the fit process exited with status {exitcode} during fit; a method must "
                          "return a model, not end the process", None)


class IsolatedFits:
    """The fit worker of one workspace: started on first use, restarted after it died, closed
    with the workspace (so a plug-in edited between two commands of one session is re-imported)."""

    def __init__(self) -> None:
        self._process: FitProcess | None = None

    def fit(self, method: object, ctx: Any) -> FitReply:
        """``method.fit(ctx)`` in the worker. A worker killed by a signal (the OOM killer, say)
        is the machine's fault (:class:`~benchmark.errors.EnvironmentFault`); one that ended
        by itself fails the run."""
        threads = torch.get_num_threads()
        if self._process is None or not self._process.alive() or self._process.threads != threads:
            self.close()
            self._process = FitProcess(threads)
        try:
            return self._process.fit(method, ctx)
        except FitProcessDied as exc:
            self._process = None
            if exc.signal_number is not None:
                raise EnvironmentFault(str(exc)) from exc
            raise

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None


# --- the worker ------------------------------------------------------------------------------

def _serve(conn: Connection, threads: int) -> None:
    """The worker's loop: receive a fit, run it, reply; end when the harness closes the pipe."""
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's to handle
    while True:
        try:
            header, payload = conn.recv_bytes(), conn.recv_bytes()
        except (EOFError, OSError):
            return
        reply = _fit_one(header, payload)
        del payload
        gc.collect()  # drop this fit's inputs before the next
        conn.send_bytes(reply)


def _fit_one(header: bytes, payload: bytes) -> bytes:
    try:
        _prepare(*pickle.loads(header))
        method, ctx = pickle.loads(payload)
        model = method.fit(ctx)
        reply = FitReply(model, ctx.examples_processed, ctx.training)
        try:
            return pickle.dumps(("ok", reply))
        except Exception as exc:
            raise BenchmarkError(f"{type(method).__name__}.fit returned a model that cannot be sent back from "
                                 f"the fit process ({type(exc).__name__}: {exc}); define its modules at "
                                 "module level") from None
    except BaseException as exc:  # the method's error (sys.exit included), re-raised in the harness
        text = traceback.format_exc()
        try:
            return pickle.dumps(("error", (exc, text)))
        except Exception:  # an exception that cannot be pickled: keep its type's name and text
            return pickle.dumps(("error", (RuntimeError(f"{type(exc).__name__}: {exc}"), text)))


def _prepare(sys_path: list[str], environ: dict[str, str], plugins: list[str]) -> None:
    """Mirror the harness's import path, environment and plug-in files."""
    sys.path[:] = sys_path
    os.environ.clear()
    os.environ.update(environ)
    for path in plugins:
        if path not in loaded_plugin_files():
            load_module_from_file(path)
