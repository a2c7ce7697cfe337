"""Shared fixtures: the shipped benchmark (skipped when AMMGC_DATA is unset) and small synthetic datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ammgc.data.dataset import Dataset, FeatureView


def benchmark_dir() -> Path | None:
    env = os.environ.get("AMMGC_DATA")
    if env and (Path(env) / "drug-miRNA.txt").is_file():
        return Path(env)
    local = Path(__file__).resolve().parents[2] / "shared" / "data" / "gcmdr"
    return local if (local / "drug-miRNA.txt").is_file() else None


def mirbase_dir() -> Path | None:
    env = os.environ.get("AMMGC_MIRBASE")
    if env and Path(env).is_dir():
        return Path(env)
    local = Path(__file__).resolve().parents[2] / "shared" / "data" / "mirbase"
    return local if local.is_dir() else None


@pytest.fixture(scope="session")
def benchmark_path() -> Path:
    path = benchmark_dir()
    if path is None:
        pytest.skip("benchmark data not available (set AMMGC_DATA)")
    return path


@pytest.fixture(scope="session")
def mirbase_path() -> Path:
    path = mirbase_dir()
    if path is None:
        pytest.skip("miRBase FASTA not available (set AMMGC_MIRBASE)")
    return path


@pytest.fixture(scope="session")
def benchmark(benchmark_path: Path) -> Dataset:
    from ammgc.data.benchmark import load_benchmark

    return load_benchmark(benchmark_path)


def make_planted_dataset(n_drugs: int = 24, n_mirnas: int = 40, n_groups: int = 3, density: float = 0.6,
                         seed: int = 0) -> Dataset:
    """A synthetic dataset with planted block structure: drugs and miRNAs of the same group associate.

    Features carry the group (plus noise), so feature-based and graph-based methods can both
    recover the planted pairs.
    """
    rng = np.random.default_rng(seed)
    drug_group = np.arange(n_drugs) % n_groups
    mirna_group = np.arange(n_mirnas) % n_groups
    same = drug_group[:, None] == mirna_group[None, :]
    associations = (same & (rng.random((n_drugs, n_mirnas)) < density)).astype(np.uint8)
    associations[np.arange(n_drugs), np.argmax(same, axis=1)] = 1

    def features(groups: np.ndarray, width: int) -> np.ndarray:
        base = np.eye(n_groups)[groups].repeat(width // n_groups, axis=1)
        return np.abs(base + 0.1 * rng.random((len(groups), base.shape[1])))

    drugs = pd.DataFrame({"name": [f"drug{i}" for i in range(n_drugs)], "cid": "", "mesh": "", "smiles": ""})
    mirnas = pd.DataFrame({"name": [f"hsa-mir-{i}" for i in range(n_mirnas)]})
    views = [FeatureView("fingerprint", "drug", features(drug_group, 12), "synthetic"),
             FeatureView("smiles_code", "drug", features(drug_group, 6), "synthetic"),
             FeatureView("expression", "mirna", features(mirna_group, 9), "synthetic"),
             FeatureView("go", "mirna", features(mirna_group, 15), "synthetic")]
    return Dataset(associations, drugs, mirnas, {v.name: v for v in views}, source="synthetic", name="planted")


@pytest.fixture
def planted() -> Dataset:
    return make_planted_dataset()
