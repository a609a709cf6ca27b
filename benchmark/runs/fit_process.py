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
from types import BuiltinFunctionType, FunctionType
from typing import Any

import torch

from benchmark.errors import BenchmarkError, EnvironmentFault
from benchmark.registry import load_module_from_file, loaded_plugin_files, plugin_module_name

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
        self.retired = False
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, threads), name="benchmark-fit", daemon=True)
        self._process.start()
        child.close()

    def alive(self) -> bool:
        return not self.retired and self._process.is_alive()

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
            changed, answer = pickle.loads(self._conn.recv_bytes())
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self._process.join(timeout=30)
            raise _died(self._process.exitcode) from None
        if changed:  # the worker ends: the next fit starts in a new one, as the first did
            log.warning("%s changed %s in the fit process; the next fit starts in a new one",
                        type(method).__name__, changed)
            self.retired = True
            self._process.join(timeout=30)
        status, payload = pickle.loads(answer)
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
    """The worker's loop: receive a fit, run it, reply; end when the harness closes the pipe,
    or after a fit that changed the process's global state (the harness starts a new one)."""
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's to handle
    while True:
        try:
            header, payload = conn.recv_bytes(), conn.recv_bytes()
        except (EOFError, OSError):
            return
        reply, changed = _fit_one(header, payload)
        del payload
        gc.collect()  # drop this fit's inputs before the next
        conn.send_bytes(pickle.dumps((changed, reply)))
        if changed:
            return


def _fit_one(header: bytes, payload: bytes) -> tuple[bytes, str | None]:
    """The pickled reply to one fit, and what global state the method changed (None: nothing)."""
    before: dict[str, int] = {}
    try:
        unloadable = _prepare(*pickle.loads(header))
        try:
            method, ctx = pickle.loads(payload)
        except ModuleNotFoundError as exc:  # its plug-in file is one that did not load here
            if not unloadable:
                raise
            # the file whose module the method's class lives in (else the first that failed)
            path = next((f for f in unloadable if plugin_module_name(f) == exc.name), next(iter(unloadable)))
            why = unloadable[path]
            raise BenchmarkError(f"the fit process cannot import the method ({exc}): plug-in file {path} "
                                 f"failed to load there ({why}); make it importable from the folder "
                                 "you run in") from None
        before = global_state()
        model = method.fit(ctx)
        reply = FitReply(model, ctx.examples_processed, ctx.training)
        try:
            return pickle.dumps(("ok", reply)), state_change(before)
        except Exception as exc:
            raise BenchmarkError(f"{type(method).__name__}.fit returned a model that cannot be sent back from "
                                 f"the fit process ({type(exc).__name__}: {exc}); define its modules at "
                                 "module level") from None
    except BaseException as exc:  # the method's error (sys.exit included), re-raised in the harness
        text = traceback.format_exc()
        changed = state_change(before) if before else None
        try:
            return pickle.dumps(("error", (exc, text))), changed
        except Exception:  # an exception that cannot be pickled: keep its type's name and text
            return pickle.dumps(("error", (RuntimeError(f"{type(exc).__name__}: {exc}"), text))), changed


_TORCH_MODULES = frozenset({"torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim"})


def global_state() -> dict[str, int]:
    """What a method could change for every later fit in this process: torch's global
    settings, and which function, class or module each project module's name holds (a
    monkeypatch). Plain data (a module's caches) is not compared."""
    state = {"torch.default_dtype": hash(torch.get_default_dtype()), "torch.grad": int(torch.is_grad_enabled()),
             "torch.threads": torch.get_num_threads(),
             "torch.deterministic": int(torch.are_deterministic_algorithms_enabled())}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("benchmark", "baselines") or name in _TORCH_MODULES:
            for attr, value in list(vars(module).items()):
                if isinstance(value, type | type(sys) | FunctionType | BuiltinFunctionType):
                    state[f"{name}.{attr}"] = id(value)
    return state


def state_change(before: dict[str, int]) -> str | None:
    """The first setting or name ``before`` holds that is now different, or None."""
    after = global_state()
    return next((k for k, v in before.items() if k in after and after[k] != v), None)


def _prepare(sys_path: list[str], environ: dict[str, str], plugins: list[str]) -> dict[str, str]:
    """Mirror the harness's import path, environment and plug-in files. A plug-in file that
    fails to load here (moved, or its helpers no longer importable) is skipped: it may belong
    to another method. Returns those files with the reason."""
    sys.path[:] = sys_path
    os.environ.clear()
    os.environ.update(environ)
    unloadable: dict[str, str] = {}
    for path in plugins:
        if path not in loaded_plugin_files():
            try:
                load_module_from_file(path)
            except Exception as exc:
                unloadable[path] = f"{type(exc).__name__}: {exc}"
    return unloadable
