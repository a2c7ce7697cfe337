"""The benchmark's eight files shipped inside the package (MIT-licensed), so it works with no network.

Each required file of ``Benchmark.files`` (given here as ``specs``) is stored xz-compressed under
``ammgc/data/benchmark/``; on first use it is decompressed into the user cache, every file checked against its
published git blob SHA-1 (a corrupt installation is an error, never a silently different benchmark).
``ammgc data fetch`` still refreshes the cache from the public homes. Rebuild the embedded copy from a
verified benchmark folder with ``python -m ammgc.data.benchmark DIR``.
"""

from __future__ import annotations

import lzma
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from ammgc.data.source import SourceFile
from ammgc.errors import DataError
from ammgc.io import atomic_write_bytes, git_blob_sha1

#: Where the compressed copies live inside the installed package.
PACKAGE_DIR = Path(__file__).parent / "benchmark"


def _packaged(spec: SourceFile) -> Path:
    return Path(str(files("ammgc.data") / "benchmark" / f"{spec.path}.xz"))


def embedded_available(specs: Sequence[SourceFile]) -> bool:
    return all(_packaged(spec).is_file() for spec in specs)


def unpack_benchmark(target: Path, specs: Sequence[SourceFile]) -> Path:
    """Decompress the embedded files into ``target`` (atomically, file by file), verifying each one."""
    for spec in specs:
        source = _packaged(spec)
        try:
            data = lzma.decompress(source.read_bytes())
        except (OSError, lzma.LZMAError) as exc:
            raise DataError(f"the embedded copy cannot be read ({exc}); reinstall ammgc", file=source) from None
        actual = git_blob_sha1(data)
        if actual != spec.blob_sha1:
            raise DataError(f"the embedded copy does not match the published file (git blob {actual}, expected "
                            f"{spec.blob_sha1}); reinstall ammgc", file=source)
        destination = target / spec.path
        if not (destination.is_file() and git_blob_sha1(destination.read_bytes()) == spec.blob_sha1):
            destination.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(destination, data)
    return target


def write_embedded(source: Path, package_dir: Path, specs: Sequence[SourceFile]) -> None:
    """Compress a verified benchmark folder's files into ``package_dir`` (maintainers only)."""
    for spec in specs:
        data = (source / spec.path).read_bytes()
        if git_blob_sha1(data) != spec.blob_sha1:
            raise DataError(f"is not the published file (expected git blob {spec.blob_sha1})", file=source / spec.path)
        out = package_dir / f"{spec.path}.xz"
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
