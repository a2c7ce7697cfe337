"""Native code that takes Ctrl-C away from Python, run where it cannot.

RDKit's substructure search (which scikit-fingerprints' PubChem fingerprint calls hundreds of times per
molecule) installs its own C-level SIGINT handler on every call and never puts Python's back. A Ctrl-C that
reaches that handler is lost, and one that lands inside a search cuts the search short, so a match count (and
with it a fingerprint bit) can change without a word. Blocking SIGINT in the calling thread is not enough: the
kernel then hands the signal to another thread of the process (BLAS's, torch's), which runs the same
process-wide handler.

:func:`run_shielded` therefore runs such a function in a forked child that has SIGINT blocked from its first
instruction (every thread it starts inherits the block), while this process waits with Python's handler in
charge: Ctrl-C raises KeyboardInterrupt here, and the child is killed. Where fork is not safe to use (outside
Linux) the function runs in this process and Python's handler is reinstated afterwards, so at least later
Ctrl-Cs work.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def run_shielded(function: Callable[..., T], *args: object) -> T:
    """``function(*args)``, computed where no SIGINT can reach it; a Ctrl-C meanwhile raises KeyboardInterrupt
    in this process. The result (or the exception) must pickle."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        with reinstating_sigint():
            return function(*args)
    with reinstating_sigint():
        return _in_forked_child(function, args)


@contextlib.contextmanager
def reinstating_sigint() -> Iterator[None]:
    """Put Python's SIGINT handler (back) in place at the C level on entering and on leaving: native code may
    have replaced it while ``signal.getsignal`` still reports Python's, so it is re-set, not compared. Main
    thread only, as Python's handlers are."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    if handler is not None:
        signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)


def _in_forked_child(function: Callable[..., T], args: tuple[object, ...]) -> T:
    read_end, write_end = os.pipe()
    # blocked before the fork, so the child never has a moment without the block
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid, status, chunks = 0, -1, []
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns that fork() in a process with threads can deadlock the child on a lock another
            # thread held; the child runs only ``function`` (RDKit, numpy) and leaves with os._exit, running no
            # exit handlers
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            _child(function, args, read_end, write_end)  # never returns
        os.close(write_end)
        write_end = -1
        # a Ctrl-C that came meanwhile is delivered now, to Python's handler
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        while chunk := os.read(read_end, 1 << 16):
            chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if write_end >= 0:
            os.close(write_end)
        os.close(read_end)  # an abandoned child's write fails, so it ends instead of waiting for a reader
        if pid and status == -1:  # not reaped: still computing, or a zombie
            # a Ctrl-C right after waitpid returned leaves status unset on a child already reaped
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not chunks:
        raise RuntimeError(f"the child process computing {getattr(function, '__name__', 'a result')} ended "
                           f"with exit code {code} and no result")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise value
    return value


def _child(function: Callable[..., object], args: tuple[object, ...], read_end: int, write_end: int) -> None:
    """The forked child: compute, send the pickled result (or exception) down the pipe, leave at once (no
    atexit handlers, no flushing of buffers the parent also holds)."""
    code = 1
    try:
        os.close(read_end)
        try:
            message = pickle.dumps(("result", function(*args)))
        except Exception as exc:  # the parent raises it
            try:
                message = pickle.dumps(("error", exc))
            except Exception:
                message = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(message)
        code = 0
    finally:
        os._exit(code)
