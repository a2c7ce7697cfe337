"""The shape every published data set shares: its files, where it lives, how it is fetched and checked.

A source (the benchmark, miRBase, ncDR's table, the target networks) lists its files with their public
URL and git blob SHA-1, and names an environment variable and a folder in the user cache. It is found in
one order: the path given (``Mirbase("~/mirbase")``, or ``located(mirbase=...)``), its environment
variable, the user cache, a copy shipped in the package (the benchmark only), then a verified download into
the cache, which ``fetch=False`` never tries. Each subclass adds ``load(...)``, the step that turns its files into what
the tool uses.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from ammgc.data.download import (
    BASE_URL_ENV,
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    NotFound,
    Unreachable,
    download_bytes,
    mirror_url,
)
from ammgc.errors import DataError, DownloadError
from ammgc.io import atomic_write_bytes, file_blob_sha1, git_blob_sha1

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """The user cache: ``AMMGC_HOME`` if set, else the platform's cache directory."""
    home = os.environ.get("AMMGC_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ammgc"))


_LOCATED: ContextVar[dict[str, Path] | None] = ContextVar("ammgc_located", default=None)


@contextmanager
def located(**paths: str | os.PathLike[str] | None) -> Iterator[None]:
    """Inside the block, each named source is read from the given copy (``located(mirbase="~/mirbase")``;
    names are the sources' cache folders: ``gcmdr``, ``mirbase``, ``ncdr``, ``side``), as if that path
    had been given to it: what ``ammgc --mirbase DIR`` does for a whole command. None leaves a source as
    it is."""
    given = {name: Path(path).expanduser() for name, path in paths.items() if path is not None}
    token = _LOCATED.set({**(_LOCATED.get() or {}), **given})
    try:
        yield
    finally:
        _LOCATED.reset(token)


def located_path(name: str) -> Path | None:
    """The copy ``located`` gave for the source ``name`` in this block, if any."""
    return (_LOCATED.get() or {}).get(name)


@dataclass(frozen=True)
class SourceFile:
    """One published file: its path in the source's layout, public URL and git blob SHA-1.

    ``blob_sha1`` None: not pinned (miRBase's current release changes), so the source checks its content.
    """

    path: str
    url: str
    blob_sha1: str | None
    required: bool = True


@dataclass(frozen=True)
class FetchResult:
    """What happened to one file: ``downloaded``, ``cached`` (already there and verified) or ``absent``."""

    path: str
    url: str
    status: Literal["downloaded", "cached", "absent"]
    detail: str = ""


class DataSource:
    """A published data set: its files, one resolver for where it lives, download, verification."""

    #: what it is, in messages
    title: ClassVar[str]
    #: its folder in the user cache
    cache_name: ClassVar[str]
    #: the environment variable that points at a copy
    env: ClassVar[str]
    #: what is wrong with a given path that is not usable
    not_found: ClassVar[str]
    #: the published files (required ones are downloaded first, in this order)
    files: ClassVar[tuple[SourceFile, ...]]
    #: whether ``AMMGC_BASE_URL`` (a mirror of the pinned files) applies
    mirrored: ClassVar[bool] = True
    #: download defaults: retries of a transient failure, network timeout
    retries: ClassVar[int] = DEFAULT_RETRIES
    timeout_s: ClassVar[float] = DEFAULT_TIMEOUT_S
    #: how a user fills the cache ahead of time
    fetch_command: ClassVar[str] = "ammgc data fetch"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else located_path(self.cache_name)

    @property
    def cache(self) -> Path:
        return cache_dir() / self.cache_name

    def usable(self, path: Path) -> bool:
        """Whether a given path (argument or environment variable) holds this source."""
        return path.is_dir()

    def complete(self, folder: Path) -> bool:
        """Whether a cache folder holds every required file."""
        return all((folder / f.path).is_file() for f in self.files if f.required)

    def file(self, root: Path, spec: SourceFile) -> Path:
        """Where ``spec`` is in a copy found at ``root``."""
        return root / spec.path

    def unpack(self, folder: Path) -> bool:
        """Fill the cache from a copy shipped in the package; False where none ships."""
        return False

    def find(self, *, environment: bool = True) -> Path | None:
        """Where the source is without any download: the path given, the environment variable (unless
        ``environment`` is False), the user cache (filled from the package's copy where one ships); None when
        it is in none of them."""
        env = os.environ.get(self.env) if environment else None
        for path, how in ((self.path, "given"),
                          (Path(env).expanduser() if env else None, f"set by {self.env}")):
            if path is not None:
                if not self.usable(path):
                    raise DataError(f"{self.not_found} ({how})", file=path)
                return path
        if self.complete(self.cache) or self.unpack(self.cache):
            return self.cache
        return None

    def resolve(self, *, fetch: bool = True, environment: bool = True) -> Path:
        """Where the source is (see ``find``), else downloaded and verified into the user cache; ``fetch``
        False never touches the network and makes a missing source an error."""
        found = self.find(environment=environment)
        if found is not None:
            return found
        if not fetch:
            raise DataError(f"no copy of {self.title}: {self._ways()}, or run `{self.fetch_command}` to fill "
                            f"{self.cache}")
        self.download()
        return self.cache

    def download(self, dest: str | os.PathLike[str] | None = None, *, files: Sequence[SourceFile] | None = None,
                 strict: bool = True, force: bool = False, base_url: str | None = None, retries: int | None = None,
                 backoff_s: float = DEFAULT_BACKOFF_S, timeout_s: float | None = None, progress: bool = True,
                 report: Callable[[FetchResult], None] | None = None) -> list[FetchResult]:
        """Download ``files`` (default: all) missing from ``dest`` (default: the cache) or failing their
        check, each verified before it is written (temporary file, then rename).

        ``base_url`` (default ``$AMMGC_BASE_URL`` where ``mirrored``) is a mirror holding the source's
        layout. An optional file that is not found or not reachable is ``absent``, as is a required one
        with ``strict`` False; content that fails its check is always an error and nothing is saved.
        """
        dest = self.cache if dest is None else Path(dest)
        base_url = base_url or (os.environ.get(BASE_URL_ENV) if self.mirrored else None) or None
        if base_url and urllib.parse.urlparse(base_url).scheme not in ("http", "https", "file"):
            raise DownloadError(f"mirror URL {base_url!r} (base_url / {BASE_URL_ENV}) must start with "
                                f"http://, https:// or file://")
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create the directory {dest}: {exc.strerror or exc}") from None
        if progress:
            log.info("fetching %s into %s", self.title, dest)
        retries = self.retries if retries is None else retries
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        results = []
        for spec in sorted(self.files if files is None else files, key=lambda f: not f.required):
            result = self._fetch(spec, dest, base_url, strict=strict, force=force, retries=retries,
                                 backoff_s=backoff_s, timeout_s=timeout_s, progress=progress)
            results.append(result)
            if report is not None:
                report(result)
        return results

    def _fetch(self, spec: SourceFile, dest: Path, base_url: str | None, *, strict: bool, force: bool, retries: int,
               backoff_s: float, timeout_s: float, progress: bool) -> FetchResult:
        url = mirror_url(base_url, spec.path) if base_url else spec.url
        target = dest / spec.path
        if target.is_file() and not force and self._matches(target, spec):
            return FetchResult(spec.path, url, "cached")
        try:
            data = download_bytes(url, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                                  progress=progress, label=spec.path)
        except NotFound:
            return self._unavailable(spec, url, "not found (HTTP 404)", dest, base_url, strict)
        except Unreachable as exc:
            attempts = f"{exc.attempts} attempt{'s' if exc.attempts > 1 else ''}"
            return self._unavailable(spec, url, f"unreachable after {attempts} ({exc})", dest, base_url, strict)
        self.check(spec, data, url)
        try:
            atomic_write_bytes(target, data)
        except OSError as exc:
            raise DownloadError(f"cannot write {target}: {exc.strerror or exc}") from None
        return FetchResult(spec.path, url, "downloaded", f"{len(data):,} bytes")

    def check(self, spec: SourceFile, data: bytes, url: str) -> None:
        """Refuse downloaded bytes that are not the published file (DownloadError; nothing is saved)."""
        if spec.blob_sha1 is not None and (actual := git_blob_sha1(data)) != spec.blob_sha1:
            raise DownloadError(f"{url}: content does not match the published file (git blob {actual}, expected "
                                f"{spec.blob_sha1}, {len(data):,} bytes received); nothing was saved. The server "
                                f"holds a different file: use the public homes (no base_url) or fix the mirror")

    def verify(self) -> list[str]:
        """One line per file present whose content differs from the published one (a user may edit on purpose)."""
        root = self.resolve(fetch=False)
        problems = []
        for spec in self.files:
            path = self.file(root, spec)
            if spec.blob_sha1 is not None and path.is_file() and (actual := file_blob_sha1(path)) != spec.blob_sha1:
                problems.append(f"{spec.path} differs from the published file (git blob {actual}, "
                                f"expected {spec.blob_sha1})")
        return problems

    def blob(self, path: Path, spec: SourceFile) -> str:
        """The git blob SHA-1 of a file about to be read, which must be the published one (else DataError)."""
        actual = file_blob_sha1(path)
        if spec.blob_sha1 is not None and actual != spec.blob_sha1:
            raise DataError(f"content does not match the published file (git blob {actual}, expected "
                            f"{spec.blob_sha1}); re-download it with `{self.fetch_command}`", file=path)
        return actual

    def _matches(self, path: Path, spec: SourceFile) -> bool:
        return spec.blob_sha1 is None or file_blob_sha1(path) == spec.blob_sha1

    def _ways(self) -> str:
        """How a user points the tool at a copy."""
        return f"give its folder or set {self.env}"

    def hint(self, dest: Path, base_url: str | None) -> str:
        """What to do without network: each file not yet in ``dest``, where from and where to."""
        pending = [f for f in self.files if not ((dest / f.path).is_file() and self._matches(dest / f.path, f))]
        lines = "\n".join(f"  {mirror_url(base_url, f.path) if base_url else f.url}  ->  {dest / f.path}"
                          + ("" if f.required else "  (optional)") for f in pending)
        return (f"No network? Download these files yourself into {dest} (same layout), or {self._ways()} to a "
                f"directory that holds them:\n{lines}")

    def _unavailable(self, spec: SourceFile, url: str, problem: str, dest: Path, base_url: str | None,
                     strict: bool) -> FetchResult:
        """A file that could not be had: ``absent`` where that is allowed, else a DownloadError saying what to do."""
        if not spec.required or not strict:
            return FetchResult(spec.path, url, "absent", problem)
        if problem.startswith("not found"):
            problem += f"; {'check base_url / ' + BASE_URL_ENV if base_url else 'the public home has moved'}"
        raise DownloadError(f"could not download {url}: {problem}. {self.hint(dest, base_url)}")
