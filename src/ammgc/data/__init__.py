"""Dataset layer: the published data sets as classes, bring-your-own data, and validation.

Each published data set is a ``DataSource`` (``ammgc.data.source``) that owns its files, hashes,
download and loading: ``Benchmark``, ``Mirbase`` (the ``sequence`` view's input), ``Ncdr`` (where each
association was published) and ``TargetNetworks`` (optional miRNA views). All find their data in one
order: path given, environment variable, user cache, copy shipped in the package, verified download.
"""

from __future__ import annotations

import os
from pathlib import Path

from ammgc.data.benchmark import Benchmark, BenchmarkDataset, is_benchmark_dir
from ammgc.data.dataset import Dataset, Entity, FeatureView
from ammgc.data.mirbase import Mirbase
from ammgc.data.ncdr import Ncdr
from ammgc.data.networks import TargetNetworks
from ammgc.data.source import DataSource, FetchResult, SourceFile, cache_dir

__all__ = ["Benchmark", "BenchmarkDataset", "DataSource", "Dataset", "Entity", "FeatureView", "FetchResult", "Mirbase",
           "Ncdr", "SourceFile", "TargetNetworks", "cache_dir", "load_dataset", "resolve_data_path"]


def resolve_data_path(data: str | os.PathLike[str] | None = None, *, fetch: bool = True) -> Path:
    """Where the data comes from: ``data``, then ``AMMGC_DATA``, then the user cache (``Benchmark.resolve``)."""
    return Benchmark(data).resolve(fetch=fetch)


def load_dataset(data: str | os.PathLike[str] | None = None, *, verify: bool = False) -> Dataset:
    """Load the benchmark layout or a bring-your-own dataset from ``data`` (see ``resolve_data_path``)."""
    path = resolve_data_path(data)
    if path.is_dir() and is_benchmark_dir(path):
        return Benchmark(path).load(verify=verify)
    from ammgc.data.byo import load_own_dataset

    return load_own_dataset(path)
