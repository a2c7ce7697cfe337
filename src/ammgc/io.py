"""Atomic file output and content hashing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

#: Names of atomic_open's temporaries: "." + target name + "." + mkstemp's 8 random characters + ".part".
_PART_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")
#: Bytes the writability probe writes and syncs: one filesystem block, so a full device fails it.
PROBE_BYTES = 4096


def git_blob_sha1(data: bytes) -> str:
    """The git blob SHA-1 of ``data`` (how the public benchmark files are identified)."""
    return hashlib.sha1(b"blob " + str(len(data)).encode() + b"\0" + data).hexdigest()


def file_blob_sha1(path: str | os.PathLike[str]) -> str:
    return git_blob_sha1(Path(path).read_bytes())


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    Readers therefore see either the old file or the complete new one, never a half-written file.
    A process killed outright (SIGKILL, power loss) can leave the hidden ``.NAME.XXXXXXXX.part``
    temporary behind; :func:`remove_stale_parts` clears those.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        # mkstemp creates 0600; give the result the mode a plain open() would (or the replaced file's)
        os.chmod(tmp, _target_mode(target))
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any threads write files
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _target_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def remove_stale_parts(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete temporaries that :func:`atomic_open` left in ``directory`` when its process was killed.

    Only call this while no other process writes there (hold the directory's lock).
    """
    removed = []
    for path in Path(directory).iterdir():
        if _PART_NAME.match(path.name) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


#: The output path that means standard output.
STDOUT = "-"


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is ``-``, the conventional name for standard output."""
    return path is not None and os.fspath(path) == STDOUT


def write_text_output(path: str | os.PathLike[str], text: str) -> None:
    """``text`` (UTF-8, line ends as given) to ``path`` atomically, or to standard output for ``-``, in one
    write once all work is done, so a failed run leaves no partial table there either."""
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


#: Output folders this process created; a failed command removes those still empty (``remove_empty_outputs``).
_CREATED: list[Path] = []


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and prove it is writable now, before any long work starts.

    The probe writes and syncs one block, so a full device fails here rather than after training.
    """
    from ammgc.errors import AmmgcError

    out = Path(path)
    missing = [d for d in (out, *out.parents) if not d.exists()]
    _CREATED.extend(missing)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".write-test-") as probe:
            probe.write(b"\0" * PROBE_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise AmmgcError(f"output directory {out} is not writable: {exc.strerror or exc}") from exc
    return out


def remove_empty_outputs() -> None:
    """Remove the output folders this process created that are still empty (a run that failed before
    writing anything leaves no trace)."""
    for directory in sorted(set(_CREATED), key=lambda d: len(d.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty, or gone: kept as it is
            directory.rmdir()
    _CREATED.clear()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output_files(outputs: Mapping[str, str | os.PathLike[str]],
                       inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """``check_output_file`` of each output (what names it -> its path), and no two outputs the same file."""
    from ammgc.errors import AmmgcError

    files = [(name, check_output_file(path, option=name, inputs=inputs)) for name, path in outputs.items()]
    for k, (first, a) in enumerate(files):
        for second, b in files[k + 1:]:
            if a.resolve() == b.resolve():
                raise AmmgcError(f"{first} and {second} name the same file {a}; give each output its own")


def check_output_file(path: str | os.PathLike[str], *, option: str,
                      inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """An output file that is safe to replace atomically, checked before any work: not a directory, a
    symlink, a device or a FIFO (an atomic rename would replace the link or fail on the device), and none
    of the run's inputs (nor a file inside an input folder that the run reads). Its folder is created."""
    from ammgc.errors import AmmgcError

    out = Path(path)
    if out.is_symlink():
        raise AmmgcError(f"{option} {out} is a symbolic link; give the real file's path (it would be replaced "
                         f"by a regular file)")
    if out.exists() and out.is_dir():
        raise AmmgcError(f"{option} {out} is a directory; give a file name, e.g. {out / 'out'}")
    if out.exists() and not out.is_file():
        raise AmmgcError(f"{option} {out} is not a regular file (a device or a pipe); give a file name")
    for source in (Path(i) for i in inputs if i is not None):
        if _same_file(out, source) or (source.is_dir() and out.resolve().is_relative_to(source.resolve())
                                       and out.exists()):
            raise AmmgcError(f"{option} {out} is an input of this run ({source}); write the output elsewhere")
    ensure_writable_dir(out.parent)
    return out
