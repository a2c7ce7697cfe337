"""Ctrl-C at many points of one `ammgc` command: run by tests/test_interrupt.py as its own process.

Usage: python interrupt_sweep.py SPEC.json, where SPEC holds ``args`` (the command line after ``ammgc``, with
``{home}`` standing for a fresh AMMGC_HOME), ``out`` (the output file the command replaces), ``points`` and
``workdir``. Prints one JSON object: the reference run's seconds and one record per point.

Starting Python and importing torch, RDKit and scikit-fingerprints takes several seconds, far longer than the
command itself on a small dataset, so this process imports everything once (by running the command once) and
forks each run from there: every run is a separate process with Python's own Ctrl-C handler, starting cold
(its own empty AMMGC_HOME), that gets SIGINT in its own process group as from a terminal, at a point spread
over the reference run's duration.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

NOT_STARTED = 254


def run_command(args: list[str], home: Path, log: Path) -> None:
    """In a forked child: `ammgc ARGS` through the CLI's own entry point; never returns."""
    code = 1
    try:
        try:
            os.setpgid(0, 0)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.environ["AMMGC_HOME"] = str(home)
            sys.argv = ["ammgc", *args]
            from ammgc.cli import main

            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt as exc:
            traceback.print_exc()
            # raised in this frame: the signal came before the command started (the machine is slow), so
            # there is nothing to test; from inside the command it is a failure (exit code 1)
            code = NOT_STARTED if exc.__traceback__ is not None and exc.__traceback__.tb_next is None else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        os._exit(code)  # one signal per run: the inner block can be cut short once, this line never


def start(args: list[str], home: Path, log: Path) -> int:
    pid = os.fork()
    if pid == 0:
        run_command(args, home, log)
    os.setpgid(pid, pid)  # also here, so a signal sent at once already finds the group
    return pid


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    args, out, workdir = spec["args"], Path(spec["out"]), Path(spec["workdir"])
    previous = out.read_bytes()

    # once in this process, so every module the command imports is loaded before the forks
    warm = workdir / "warm.log"
    with warm.open("w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        os.environ["AMMGC_HOME"] = str(workdir / "home-warm")
        sys.argv = ["ammgc", *args]
        from ammgc.cli import main as ammgc

        try:
            ammgc()
        except SystemExit as exc:
            assert exc.code in (0, None), warm.read_text()
    out.write_bytes(previous)
    started = time.monotonic()
    pid = start(args, workdir / "home-reference", workdir / "reference.log")
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0, (workdir / "reference.log").read_text()
    seconds = time.monotonic() - started
    out.write_bytes(previous)

    records = []
    for k in range(1, spec["points"] + 1):
        delay = seconds * 1.1 * k / spec["points"]
        log = workdir / f"run{k}.log"
        started = time.monotonic()
        pid = start(args, workdir / f"home{k}", log)
        time.sleep(max(0.0, started + delay - time.monotonic()))
        done, status = os.waitpid(pid, os.WNOHANG)
        sent_ns = time.time_ns()
        if not done:
            os.killpg(pid, signal.SIGINT)
            status = os.waitpid(pid, 0)[1]
        try:
            os.killpg(pid, 0)
            left = True  # a process of the run (the fingerprint's child) outlived it
        except ProcessLookupError:
            left = False
        records.append({"delay": delay, "finished_before_signal": bool(done), "sent_ns": sent_ns,
                        "code": os.waitstatus_to_exitcode(status), "processes_left": left,
                        "kept": out.read_bytes() == previous, "mtime_ns": out.stat().st_mtime_ns,
                        "files": sorted(p.name for p in out.parent.iterdir()), "log": log.read_text()})
        if not records[-1]["kept"]:
            (workdir / f"model{k}").write_bytes(out.read_bytes())
            out.write_bytes(previous)
    print(json.dumps({"seconds": seconds, "points": records}))


if __name__ == "__main__":
    main()
