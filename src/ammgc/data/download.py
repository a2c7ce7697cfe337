"""Bytes from the public homes (or a mirror) with bounded retries, and safe unpacking of zip archives.

Transient failures (no connection, timeouts, truncated transfers, HTTP 5xx/429) are retried a bounded
number of times with a growing pause; anything else fails at once. What is fetched, how it is verified and
where it is cached belongs to each data source (``ammgc.data.source``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import stat
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ammgc.errors import DataError, DownloadError

BASE_URL_ENV = "AMMGC_BASE_URL"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 1.0
DEFAULT_TIMEOUT_S = 30.0
MAX_ARCHIVE_BYTES = 4 << 30
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
_CHUNK = 1 << 16


class Unreachable(Exception):
    """A failure worth retrying: no connection, a timeout, a truncated transfer, HTTP 408/425/429/5xx.
    ``no_connection``: no connection could be made at all; ``attempts``: how many were made."""

    def __init__(self, reason: str, *, no_connection: bool = False) -> None:
        super().__init__(reason)
        self.no_connection = no_connection
        self.attempts = 1


#: hosts (with port) to which no connection could be made through every retry: in the rest of this process a
#: download from them is tried once, with no pauses (offline, a run of many folds would otherwise wait out the
#: retries of every fold's lookup)
_NO_CONNECTION: set[str] = set()


class NotFound(Exception):
    """HTTP 404/410: the file is not at this URL."""


def mirror_url(base_url: str, path: str) -> str:
    """Where a mirror holding a source's layout keeps ``path`` (URL-encoded)."""
    return base_url.rstrip("/") + "/" + urllib.parse.quote(path)


def download_bytes(url: str, *, retries: int = DEFAULT_RETRIES, backoff_s: float = DEFAULT_BACKOFF_S,
                   timeout_s: float = DEFAULT_TIMEOUT_S, progress: bool = True, label: str = "") -> bytes:
    """The body at ``url``, retrying transient failures ``retries`` times (pause ``backoff_s * 2**k``); a host
    this process could not connect to through all its retries is tried once."""
    host = urllib.parse.urlparse(url).netloc
    if host in _NO_CONNECTION:
        retries = 0
    for attempt in range(retries + 1):
        try:
            body = _get(url, timeout_s=timeout_s, progress=progress, label=label or url)
        except Unreachable as exc:
            if attempt == retries:
                exc.attempts = attempt + 1
                if exc.no_connection:
                    _NO_CONNECTION.add(host)
                raise
            time.sleep(backoff_s * 2 ** attempt)
        else:
            _NO_CONNECTION.discard(host)
            return body
    raise AssertionError("unreachable")


def _get(url: str, *, timeout_s: float, progress: bool, label: str) -> bytes:
    from tqdm import tqdm

    from ammgc import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"ammgc/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise NotFound() from None
        if exc.code in _TRANSIENT_HTTP:
            raise Unreachable(f"HTTP {exc.code}") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise Unreachable(_network_reason(exc.reason), no_connection=True) from None
    except (TimeoutError, ConnectionError, OSError, http.client.HTTPException) as exc:
        raise Unreachable(_network_reason(exc), no_connection=True) from None
    with response:
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        chunks = []
        received = 0
        try:
            with tqdm(total=expected, unit="B", unit_scale=True, desc=label, disable=not progress,
                      leave=False) as bar:
                while chunk := response.read(_CHUNK):
                    chunks.append(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (TimeoutError, ConnectionError, OSError, http.client.HTTPException) as exc:
            reason = _network_reason(exc)
            raise Unreachable(f"transfer interrupted after {received:,} bytes: {reason}") from None
    if expected is not None and received != expected:
        raise Unreachable(f"transfer truncated: {received:,} of {expected:,} bytes")
    return b"".join(chunks)


def _network_reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return f"host name not resolved: {reason}"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__


def extract_archive(archive: str | os.PathLike[str], target: str | os.PathLike[str], *,
                    max_bytes: int = MAX_ARCHIVE_BYTES) -> Path:
    """Unpack a zip archive into ``target`` safely, replacing what was there only when all went well.

    Members with absolute paths, drive letters, ``..`` components or symbolic links are refused,
    as is an archive that would unpack to more than ``max_bytes``.
    """
    archive, target = Path(archive), Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"not a readable zip archive ({exc})", file=archive) from None
    with zf:
        members = zf.infolist()
        for info in members:
            _check_member(info, archive)
        total = sum(info.file_size for info in members)
        if total > max_bytes:
            raise DataError(f"would unpack to {total:,} bytes, more than the {max_bytes:,} allowed",
                            file=archive)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for info in members:
                out = staging.joinpath(*_member_parts(info.filename))
                if info.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise DataError(f"cannot unpack: {exc}", file=archive) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def _member_parts(name: str) -> tuple[str, ...]:
    return PurePosixPath(name.replace("\\", "/")).parts


def _check_member(info: zipfile.ZipInfo, archive: Path) -> None:
    name = info.filename
    parts = _member_parts(name)
    unsafe = (not parts or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
              or any(p in ("..", "") for p in parts) or "\0" in name)
    if unsafe:
        raise DataError(f"unsafe archive member {name!r} (absolute path or '..'); refusing to unpack",
                        file=archive)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DataError(f"archive member {name!r} is a symbolic link; refusing to unpack", file=archive)
