"""Dataset layer: the benchmark, bring-your-own data, where data comes from, and validation."""

from __future__ import annotations

import os
from pathlib import Path

from ammgc.data.dataset import Dataset, Entity, FeatureView
from ammgc.errors import DataError

__all__ = ["Dataset", "Entity", "FeatureView", "benchmark_path", "cache_dir", "load_dataset", "resolve_data_path"]


def cache_dir() -> Path:
    """The user cache: ``AMMGC_HOME`` if set, else the platform's cache directory."""
    home = os.environ.get("AMMGC_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ammgc"))


def benchmark_cache_dir() -> Path:
    return cache_dir() / "gcmdr"


def benchmark_path() -> Path:
    """The benchmark in the user cache, filled from the package's embedded copy (or downloaded) if empty."""
    from ammgc.data.benchmark import is_benchmark_dir

    cached = benchmark_cache_dir()
    if is_benchmark_dir(cached):
        return cached
    from ammgc.data.embedded import embedded_available, unpack_benchmark

    if embedded_available():
        return unpack_benchmark(cached)
    from ammgc.data.download import fetch_benchmark

    fetch_benchmark(cached)
    return cached


def resolve_data_path(data: str | os.PathLike[str] | None = None, *, fetch: bool = True) -> Path:
    """Where the data comes from: ``data`` argument, then ``AMMGC_DATA``, then the user cache.

    An empty cache is filled from the benchmark embedded in the package (verified; no network), or, in an
    installation without it, by downloading and verifying the benchmark (when ``fetch``).
    """
    if data is not None:
        path = Path(data).expanduser()
        if not path.exists():
            raise DataError("data path does not exist (given with --data)", file=path)
        return path
    env = os.environ.get("AMMGC_DATA")
    if env:
        path = Path(env).expanduser()
        if not path.exists():
            raise DataError("data path does not exist (set by AMMGC_DATA)", file=path)
        return path
    from ammgc.data.benchmark import is_benchmark_dir
    from ammgc.data.embedded import embedded_available

    if not fetch and not (is_benchmark_dir(benchmark_cache_dir()) or embedded_available()):
        raise DataError(f"no data: pass --data DIR, set AMMGC_DATA, or run `ammgc data fetch` "
                        f"to fill {benchmark_cache_dir()}")
    return benchmark_path()


def load_dataset(data: str | os.PathLike[str] | None = None, *, verify: bool = False) -> Dataset:
    """Load the benchmark layout or a bring-your-own dataset from ``data`` (see ``resolve_data_path``)."""
    from ammgc.data.benchmark import is_benchmark_dir, load_benchmark

    path = resolve_data_path(data)
    if path.is_dir() and is_benchmark_dir(path):
        return load_benchmark(path, verify=verify)
    from ammgc.data.byo import load_own_dataset

    return load_own_dataset(path)
