"""miRBase: the human stem-loop and mature sequences behind the miRNA ``sequence`` view.

Not shipped in the package and not pinned by hash: the current release is downloaded from miRBase
(``hairpin.fa``, ``mature.fa``, and ``aliases.txt`` when offered), each file checked to be a FASTA with
human entries before it is written. Any folder of miRBase files works as a copy (``--mirbase DIR``,
``AMMGC_MIRBASE``), older releases beside the current one included (see ``ammgc.features.names``).
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ammgc.data.source import DataSource, SourceFile
from ammgc.errors import DataError, DownloadError
from ammgc.io import file_blob_sha1

if TYPE_CHECKING:
    from ammgc.features.names import MirbaseCatalogue

MIRBASE_URL = "https://www.mirbase.org/download/"


class Mirbase(DataSource):
    """miRBase's sequences (a folder); ``load()`` reads them into a ``MirbaseCatalogue``."""

    title = "miRBase"
    cache_name = "mirbase"
    env = "AMMGC_MIRBASE"
    not_found = "miRBase directory does not exist"
    files = (SourceFile("hairpin.fa", MIRBASE_URL + "hairpin.fa", None),
             SourceFile("mature.fa", MIRBASE_URL + "mature.fa", None),
             SourceFile("aliases.txt", MIRBASE_URL + "aliases.txt", None, required=False))
    mirrored = False  # AMMGC_BASE_URL mirrors the pinned files; miRBase's current release is not one of them
    retries = 0  # one attempt: offline, the default model goes on without the sequence view at once
    timeout_s = 60.0

    def check(self, spec: SourceFile, data: bytes, url: str) -> None:
        """A FASTA file must have human (hsa-) entries; nothing is written otherwise."""
        if not spec.path.endswith(".fa"):
            return
        from ammgc.features.names import read_fasta

        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / spec.path
            part.write_bytes(data)
            try:
                human = any(k.startswith("hsa-") for k in read_fasta(part))
            except DataError as exc:
                raise DownloadError(f"{url} is not a valid FASTA file: {exc}") from None
        if not human:
            raise DownloadError(f"{url} has no human (hsa-) entries; not a miRBase FASTA")

    def hint(self, dest: Path, base_url: str | None) -> str:
        """Any folder of miRBase files will do (nothing is pinned), so no list of files."""
        return f"No network? Then {self._ways()} to a directory with miRBase's hairpin.fa and mature.fa"

    def load(self) -> MirbaseCatalogue:
        """The miRBase files of the resolved folder (kept in memory while the files are unchanged)."""
        from ammgc.features.names import discover_files

        directory = self.resolve().resolve()
        releases, aliases = discover_files(directory)
        files = [p for _, h, m in releases for p in (h, m) if p is not None] + ([aliases] if aliases else [])
        stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        return _catalogue(directory, stamp)


@lru_cache(maxsize=4)
def _catalogue(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> MirbaseCatalogue:
    from ammgc.features.names import MirbaseCatalogue, build_release, discover_files, read_aliases

    found, aliases_path = discover_files(directory)
    releases = tuple(build_release(label, hairpin, mature) for label, hairpin, mature in found)
    hashes = tuple((Path(path).name, file_blob_sha1(path)) for path, _, _ in stamp)
    aliases = read_aliases(aliases_path) if aliases_path else {}
    catalogue = MirbaseCatalogue(directory, releases, aliases, hashes)
    if not catalogue.columns:
        raise DataError("the current stem-loop FASTA has no human (hsa-) entries", file=found[0][1])
    return catalogue
