"""Fetch the benchmark from its public homes (or a mirror), verify every file, and cache it atomically.

Each file is checked against its published git blob SHA-1 before it is written (temporary file,
then rename), so the cache never holds a partial or wrong file. Transient failures (no connection,
timeouts, truncated transfers, HTTP 5xx/429) are retried a bounded number of times with a growing
pause; anything else fails at once with a message that says what to do.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from ammgc.data.benchmark import ARCHIVE_FILE, BENCHMARK_FILES, GO_FILE, BenchmarkFile
from ammgc.errors import DataError, DownloadError
from ammgc.io import atomic_write_bytes, file_blob_sha1, git_blob_sha1

BASE_URL_ENV = "AMMGC_BASE_URL"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 1.0
DEFAULT_TIMEOUT_S = 30.0
MAX_ARCHIVE_BYTES = 4 << 30
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FetchResult:
    """What happened to one file: ``downloaded``, ``cached`` (already there and verified) or ``absent``."""

    path: str
    url: str
    status: Literal["downloaded", "cached", "absent"]
    detail: str = ""


class _Transient(Exception):
    """A failure worth retrying."""


class _NotFound(Exception):
    """HTTP 404/410: the file is not at this URL."""


def fetch_benchmark(dest: str | os.PathLike[str], *, base_url: str | None = None, include_go: bool = True,
                    with_archive: bool = False, force: bool = False, retries: int = DEFAULT_RETRIES,
                    backoff_s: float = DEFAULT_BACKOFF_S, timeout_s: float = DEFAULT_TIMEOUT_S,
                    progress: bool = True, report: Callable[[FetchResult], None] | None = None,
                    ) -> list[FetchResult]:
    """Download every benchmark file missing from ``dest`` (or failing its hash), verified.

    ``base_url`` (default ``$AMMGC_BASE_URL``) replaces the public homes with a mirror holding
    the benchmark layout (``<base_url>/features/drug_list.xlsx`` and so on). The GO similarity
    file is optional: when it is not found the result says so and nothing fails. With
    ``with_archive`` the authors' zip archive is fetched too and unpacked beside it.
    """
    dest = Path(dest)
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    if base_url and urllib.parse.urlparse(base_url).scheme not in ("http", "https", "file"):
        raise DownloadError(f"mirror URL {base_url!r} (--base-url / {BASE_URL_ENV}) must start with "
                            f"http://, https:// or file://")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the data directory {dest}: {exc.strerror or exc}") from None
    # drug-miRNA.txt marks a complete benchmark directory, so it is written last: an interrupted
    # fetch leaves no marker and the next run resumes (verified files are kept).
    required = sorted((f for f in BENCHMARK_FILES if f.required), key=lambda f: f.path == "drug-miRNA.txt")
    optional = [f for f in BENCHMARK_FILES if not f.required and (include_go or f.path != GO_FILE)]
    if with_archive:
        optional.append(ARCHIVE_FILE)
    if progress:
        print(f"fetching the benchmark into {dest}", file=sys.stderr)
    results = []
    for spec in [*required, *optional]:
        url = mirror_url(base_url, spec) if base_url else spec.url
        try:
            result = _fetch_one(spec, url, dest, force=force, retries=retries, backoff_s=backoff_s,
                                timeout_s=timeout_s, progress=progress)
        except _NotFound:
            if spec.required:
                cause = f"check --base-url / {BASE_URL_ENV}" if base_url else "the public home has moved"
                raise DownloadError(f"{url}: not found (HTTP 404); {cause}. "
                                    f"{_manual_hint(dest, required, base_url)}") from None
            result = FetchResult(spec.path, url, "absent", "not found (HTTP 404)")
        except _Transient as exc:
            if spec.required:
                raise DownloadError(f"could not download {url} after {retries + 1} attempts ({exc}). "
                                    f"{_manual_hint(dest, required, base_url)}") from None
            result = FetchResult(spec.path, url, "absent", f"unreachable ({exc})")
        results.append(result)
        if report is not None:
            report(result)
    # only an archive verified by its hash in this run (downloaded, or already there and matching) is unpacked:
    # a file at that path that failed verification, with the mirror unreachable, is not the authors' archive
    verified = {r.path for r in results if r.status in ("downloaded", "cached")}
    if with_archive and ARCHIVE_FILE.path in verified:
        unpacked = extract_archive(dest / ARCHIVE_FILE.path, dest / Path(ARCHIVE_FILE.path).with_suffix(""))
        _adopt_go_file(unpacked, dest)
    return results


def fetch_file(spec: BenchmarkFile, dest: Path, *, base_url: str | None = None, force: bool = False,
               retries: int = DEFAULT_RETRIES, backoff_s: float = DEFAULT_BACKOFF_S,
               timeout_s: float = DEFAULT_TIMEOUT_S, progress: bool = True) -> FetchResult:
    """One published file into ``dest`` (``dest / spec.path``), verified by its git blob SHA-1 before it is
    written; a verified copy already there is kept. A mirror ``base_url`` holds it under ``spec.path``.
    An optional file (``spec.required`` False) that is not found or not reachable is reported ``absent``;
    content that fails verification is always an error."""
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    url = mirror_url(base_url, spec) if base_url else spec.url
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the directory {dest}: {exc.strerror or exc}") from None
    try:
        return _fetch_one(spec, url, dest, force=force, retries=retries, backoff_s=backoff_s,
                          timeout_s=timeout_s, progress=progress)
    except _NotFound:
        problem = "not found (HTTP 404)"
    except _Transient as exc:
        problem = f"unreachable after {retries + 1} attempts ({exc})"
    if not spec.required:
        return FetchResult(spec.path, url, "absent", problem)
    raise DownloadError(f"{url}: {problem}; no network? download it yourself to {dest / spec.path}")


def mirror_url(base_url: str, spec: BenchmarkFile) -> str:
    return base_url.rstrip("/") + "/" + urllib.parse.quote(spec.path)


def _fetch_one(spec: BenchmarkFile, url: str, dest: Path, *, force: bool, retries: int, backoff_s: float,
               timeout_s: float, progress: bool) -> FetchResult:
    target = dest / spec.path
    if target.is_file() and not force and file_blob_sha1(target) == spec.blob_sha1:
        return FetchResult(spec.path, url, "cached")
    data = download_bytes(url, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                          progress=progress, label=spec.path)
    actual = git_blob_sha1(data)
    if actual != spec.blob_sha1:
        raise DownloadError(f"{url}: content does not match the published file (git blob {actual}, expected "
                            f"{spec.blob_sha1}, {len(data):,} bytes received); nothing was saved. The server "
                            f"holds a different file: use the public homes (no --base-url) or fix the mirror")
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise DownloadError(f"cannot write {target}: {exc.strerror or exc}") from None
    return FetchResult(spec.path, url, "downloaded", f"{len(data):,} bytes")


def download_bytes(url: str, *, retries: int = DEFAULT_RETRIES, backoff_s: float = DEFAULT_BACKOFF_S,
                   timeout_s: float = DEFAULT_TIMEOUT_S, progress: bool = True, label: str = "") -> bytes:
    """The body at ``url``, retrying transient failures ``retries`` times (pause ``backoff_s * 2**k``)."""
    for attempt in range(retries + 1):
        try:
            return _get(url, timeout_s=timeout_s, progress=progress, label=label or url)
        except _Transient:
            if attempt == retries:
                raise
            time.sleep(backoff_s * 2 ** attempt)
    raise AssertionError("unreachable")


def _get(url: str, *, timeout_s: float, progress: bool, label: str) -> bytes:
    from tqdm import tqdm

    from ammgc import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"ammgc/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise _NotFound() from None
        if exc.code in _TRANSIENT_HTTP:
            raise _Transient(f"HTTP {exc.code}") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _Transient(_network_reason(exc.reason)) from None
    except (TimeoutError, ConnectionError, OSError, http.client.HTTPException) as exc:
        raise _Transient(_network_reason(exc)) from None
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
            raise _Transient(f"transfer interrupted after {received:,} bytes: {reason}") from None
    if expected is not None and received != expected:
        raise _Transient(f"transfer truncated: {received:,} of {expected:,} bytes")
    return b"".join(chunks)


def _network_reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return f"host name not resolved: {reason}"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__


def _manual_hint(dest: Path, files: list[BenchmarkFile], base_url: str | None) -> str:
    """Where to put each file not yet in ``dest`` (verified), for a machine without network."""
    missing = [f for f in files if not (dest / f.path).is_file() or file_blob_sha1(dest / f.path) != f.blob_sha1]
    go = next(f for f in BENCHMARK_FILES if f.path == GO_FILE)
    lines = "\n".join(f"  {mirror_url(base_url, f) if base_url else f.url}  ->  {dest / f.path}"
                      for f in [*missing, go])
    return (f"No network? Download these files yourself into {dest} (same layout; the last one, GO "
            f"similarity, is optional), or point --data or AMMGC_DATA at a directory that holds them:\n{lines}")


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


def _adopt_go_file(folder: Path, dest: Path) -> None:
    """If the archive holds the published GO similarity file (same blob), put it where the loader looks."""
    target = dest / GO_FILE
    if target.is_file():
        return
    go = next(f for f in BENCHMARK_FILES if f.path == GO_FILE)
    for candidate in sorted(folder.rglob("*")):
        if (candidate.is_file() and candidate.name == Path(GO_FILE).name
                and file_blob_sha1(candidate) == go.blob_sha1):
            atomic_write_bytes(target, candidate.read_bytes())
            return
