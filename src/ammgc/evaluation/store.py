"""Resumable per-fold result store: one JSON file per finished fold, written atomically."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ammgc.errors import AmmgcError
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir, remove_stale_parts

log = logging.getLogger(__name__)


class FoldStore:
    """``out/folds/<key>.json`` per finished fold, tagged with the run's fingerprint.

    Results of a different configuration in the same directory are never mixed in: they are an
    error telling the user to pick another output directory. The store holds an exclusive lock on
    ``out/folds/.lock`` until :meth:`close` (or process exit, however abrupt), so two runs never write
    the same folds and temporaries left by a killed run can be removed safely.
    """

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.dir = ensure_writable_dir(out) / "folds"
        if self.dir.exists() and not self.dir.is_dir():
            raise AmmgcError(f"{self.dir} is a file, where this run keeps its finished folds; move it away or "
                             f"choose another output directory")
        self.dir.mkdir(exist_ok=True)
        self.fingerprint = fingerprint
        self._lock_fd = _lock(self.dir / ".lock", out)
        remove_stale_parts(self.dir)
        marker = self.dir / "RUN"
        if marker.exists():
            existing = marker.read_text().strip()
            if existing != fingerprint:
                self.close()
                raise AmmgcError(f"{out} holds folds of a different run configuration ({existing}, this run "
                                 f"is {fingerprint}); choose another output directory or delete {self.dir}")
        else:
            atomic_write_text(marker, fingerprint + "\n")

    def load_all(self, check: Callable[[str, dict[str, Any]], str | None] | None = None) -> dict[str, dict[str, Any]]:
        """The stored records by key (file name without ``.json``). A file that is not a record of this run, or
        whose record ``check(key, record)`` finds a problem with, is left out with a logged warning naming it,
        so the fold is computed again (and the file replaced) instead of breaking the summary."""
        records = {}
        for path in sorted(self.dir.glob("r*_f*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                # atomic writes make this unlikely (edited by hand, a damaged disk)
                problem: str | None = "not readable as JSON"
            else:
                if not isinstance(record, dict):
                    problem = f"not a fold record (a JSON {type(record).__name__})"
                elif record.pop("fingerprint", None) != self.fingerprint:
                    problem = f"not a fold of this run (its fingerprint is not {self.fingerprint})"
                else:  # the tag is the store's own: records match fresh ones exactly
                    problem = check(path.stem, record) if check is not None else None
            if problem is None:
                records[path.stem] = record
            else:
                log.warning("%s: %s; this fold is computed again", path, problem)
        return records

    def save(self, key: str, record: dict[str, Any]) -> None:
        path = self.dir / f"{key}.json"
        try:
            atomic_write_json(path, {**record, "fingerprint": self.fingerprint})
        except OSError as exc:
            raise AmmgcError(f"cannot write {path}: {exc.strerror or exc}; the folds stored before it are "
                             f"kept and a rerun resumes from them") from None

    def close(self) -> None:
        """Release the lock (idempotent)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _lock(path: Path, out: Path) -> int | None:
    """An exclusive, non-blocking lock on ``path``; None where the platform or filesystem has no locks."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AmmgcError(f"another ammgc run is writing to {out} right now; wait for it to finish or choose "
                         f"another output directory") from None
    except OSError:
        os.close(fd)  # e.g. a network filesystem without locks: run unguarded rather than not at all
        return None
    return fd


_SHARED: ContextVar[Path | None] = ContextVar("ammgc_shared_folds", default=None)


@contextmanager
def shared_folds(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Inside the block every cross-validation also keeps its finished folds in ``directory/<fingerprint>/``,
    and takes a fold from there that a run of the same fingerprint already finished: a configuration that
    several studies run (``ammgc study``: the paper's model is also Table 2's full model, Table 3's 1:1 and
    Figure 3's depth 2 and width 256) is trained once."""
    token = _SHARED.set(Path(directory))
    try:
        yield Path(directory)
    finally:
        _SHARED.reset(token)


def shared_store(fingerprint: str) -> FoldStore | None:
    """The shared store of ``fingerprint`` inside a ``shared_folds`` block, else None."""
    directory = _SHARED.get()
    return FoldStore(directory / fingerprint, fingerprint) if directory is not None else None
