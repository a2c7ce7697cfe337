"""Shared fixtures: the benchmark shipped in the package, small miRBase and ncDR subsets (tests/data), and small
synthetic datasets. No test reads a path outside the repository or reaches the network."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ammgc.data.dataset import Dataset, FeatureView

DATA = Path(__file__).parent / "data"
#: a few dozen human stem-loops and mature miRNAs of miRBase releases 22 and 21 (tests/data/make_subsets.py)
MIRBASE_SUBSET = DATA / "mirbase"
#: the identifier columns of a few hundred rows of ncDR's curated table (tests/data/make_subsets.py)
NCDR_SUBSET = DATA / "ncdr" / "ncDR_Curated_DRmiRNA.csv"
#: what a developer's environment may point elsewhere; the tests set their own
_VARIABLES = ("AMMGC_DATA", "AMMGC_MIRBASE", "AMMGC_NCDR", "AMMGC_SIDE", "AMMGC_BASE_URL", "AMMGC_HOME")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long end-to-end tests (marked ``slow``) first: run in parallel, they then overlap the many short
    ones instead of finishing alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True, scope="session")
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test on the same footing on any machine: an empty cache of its own, miRBase from the subset in
    tests/data, no other data variable, and downloads blocked except from this machine (the tests' own
    servers and folders)."""
    import ammgc.data.download as download

    before = {name: os.environ.pop(name, None) for name in _VARIABLES}
    os.environ["AMMGC_HOME"] = str(tmp_path_factory.mktemp("ammgc-home"))
    os.environ["AMMGC_MIRBASE"] = str(MIRBASE_SUBSET)
    get = download._get

    def local_only(url: str, **kwargs: object) -> bytes:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "file" and parsed.hostname not in ("127.0.0.1", "localhost"):
            raise download.Unreachable(f"downloads are blocked in the tests ({parsed.hostname})",
                                       no_connection=True)
        return get(url, **kwargs)  # type: ignore[arg-type]

    download._get = local_only  # type: ignore[assignment]
    yield
    download._get = get  # type: ignore[assignment]
    for name, value in before.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


@pytest.fixture(autouse=True, scope="session")
def one_fold_process_by_default() -> Iterator[None]:
    """Commands run their folds in this process unless a test asks for fold processes (``--jobs 2``): a
    spawned process spends seconds importing torch, more than a small test's folds take."""
    import ammgc.runtime as runtime

    default = runtime.default_jobs
    runtime.default_jobs = lambda: 1  # type: ignore[assignment]
    yield
    runtime.default_jobs = default  # type: ignore[assignment]


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread() -> Iterator[None]:
    """Every training in the tests on one thread, as the tool does: on a busy machine torch's spinning
    threads slow small fits tenfold, and the thread count changes float rounding."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def benchmark_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark shipped in the package, unpacked and verified into a folder of its own (read-only use)."""
    from ammgc.data.benchmark import Benchmark
    from ammgc.data.embedded import unpack_benchmark

    return unpack_benchmark(tmp_path_factory.mktemp("benchmark"), Benchmark().shipped)


@pytest.fixture(scope="session")
def mirbase_path() -> Path:
    return MIRBASE_SUBSET


@pytest.fixture(scope="session")
def ncdr_path() -> Path:
    return NCDR_SUBSET


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


def with_synthetic_publications(dataset: Dataset, n_publications: int = 12, seed: int = 0) -> Dataset:
    """``dataset`` with each association reported by one of ``n_publications`` studies (PMIDs 1000, 1001, ...,
    so later studies have larger ids), two of them large, as on the benchmark."""
    from dataclasses import replace

    from ammgc.data.publications import build_publications

    rng = np.random.default_rng(seed)
    pairs = dataset.positive_pairs()
    weights = np.ones(n_publications)
    weights[:2] = n_publications / 2
    study = rng.choice(n_publications, size=len(pairs), p=weights / weights.sum())
    reports = [[(1000 + int(s), str(1000 + int(s)))] for s in study]
    return replace(dataset, publications=build_publications(pairs, reports, kind="pmid", source="synthetic"))


@pytest.fixture
def planted_with_publications() -> Dataset:
    return with_synthetic_publications(make_planted_dataset())


# A small own dataset built from scratch: real SMILES (PubChem) and real miRBase stem-loop sequences.
TINY_DRUGS = {
    "cisplatin": "N.N.Cl[Pt]Cl",
    "gemcitabine": "C1=CN(C(=O)N=C1N)C2C(C(C(O2)CO)O)(F)F",
    "fluorouracil": "C1=C(C(=O)NC(=O)N1)F",
    "tamoxifen": "CCC(=C(C1=CC=CC=C1)C2=CC=C(C=C2)OCCN(C)C)C3=CC=CC=C3",
    "doxorubicin": "CC1C(C(CC(O1)OC2CC(CC3=C2C(=C4C(=C3O)C(=O)C5=C(C4=O)C(=CC=C5)OC)O)(C(=O)CO)O)N)O",
    "imatinib": "CC1=C(C=C(C=C1)NC(=O)C2=CC=C(C=C2)CN3CCN(CC3)C)NC4=NC=CC(=N4)C5=CN=CC=C5",
    "methotrexate": "CN(CC1=CN=C2C(=N1)C(=NC(=N2)N)N)C3=CC=C(C=C3)C(=O)NC(CCC(=O)O)C(=O)O",
}
TINY_MIRNAS = {
    "hsa-mir-21": "UGUCGGGUAGCUUAUCAGACUGAUGUUGACUGUUGAAUCUCAUGGCAACACCAGUCGAUGGGCUGUCUGACA",
    "hsa-mir-155": "CUGUUAAUGCUAAUCGUGAUAGGGGUUUUUGCCUCCAACUGACUCCUACAUAUUAGCAUUAACAG",
    "hsa-let-7a-1": "UGGGAUGAGGUAGUAGGUUGUAUAGUUUUAGGGUCACACCCACCACUGGGAGAUAACUAUACAAUCUACUGUCUUUCCUA",
    "hsa-mir-200c": "CCCUCGUCUUACCCAGCAGUGUUUGGGUGCGGUUGGGAGUCUCUAAUACUGCCGGGUAAUGAUGGAGG",
    "hsa-mir-146a": ("CCGAUGUGUAUCCUCAGCUUUGAGAACUGAAUUCCAUGGGUUGUGUCAGUGUCAGACCUCUGAAAUUCAGUUCUUCAGCUGG"
                     "GAUAUCUCUGUCAUCGU"),
    "hsa-mir-145": ("CACCUUGUCCUCACGGUCCAGUUUUCCCAGGAAUCCCUUAGAUGCUAAGAUGGGGAUUCCUGGAAAUACUGUUCUUGAGGUC"
                    "AUGGUU"),
}
TINY_PAIRS = [("cisplatin", "hsa-mir-21"), ("cisplatin", "hsa-mir-155"), ("cisplatin", "hsa-mir-146a"),
              ("gemcitabine", "hsa-mir-21"), ("gemcitabine", "hsa-mir-145"), ("fluorouracil", "hsa-mir-21"),
              ("fluorouracil", "hsa-mir-200c"), ("tamoxifen", "hsa-let-7a-1"), ("tamoxifen", "hsa-mir-21"),
              ("doxorubicin", "hsa-mir-21"), ("doxorubicin", "hsa-mir-155"), ("doxorubicin", "hsa-mir-200c"),
              ("imatinib", "hsa-mir-146a"), ("methotrexate", "hsa-mir-145"), ("methotrexate", "hsa-let-7a-1")]


def write_tiny_own_dataset(root: Path) -> Path:
    """drugs.csv (name,smiles), mirnas.csv (name,sequence), associations.csv and an expression table."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "drugs.csv").write_text("name,smiles\n" + "".join(f"{n},{s}\n" for n, s in TINY_DRUGS.items()))
    (root / "mirnas.csv").write_text("name,sequence\n" + "".join(f"{n},{s}\n" for n, s in TINY_MIRNAS.items()))
    (root / "associations.csv").write_text("drug,mirna\n" + "".join(f"{d},{m}\n" for d, m in TINY_PAIRS))
    rng = np.random.default_rng(0)
    (root / "features" / "mirna").mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{n}," + ",".join(f"{v:.3f}" for v in rng.random(5)) + "\n" for n in TINY_MIRNAS)
    (root / "features" / "mirna" / "expression.csv").write_text("name,c1,c2,c3,c4,c5\n" + rows)
    return root


@pytest.fixture
def tiny_own_data(tmp_path: Path) -> Path:
    return write_tiny_own_dataset(tmp_path / "tiny")


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`ammgc ARGS` in this process, through the real error boundary: (exit code, stderr)."""
    import sys

    from ammgc.cli import main

    monkeypatch.setattr(sys, "argv", ["ammgc", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err



def fit_model(dataset: Dataset, config: dict | None = None, *, seed: int = 0, drug_features: str = "smiles",
              calibrate: bool = False, mirbase: Path | None = None, progress: bool = False) -> object:
    """``ammgc.prediction.training.train`` of the prediction model with ``config`` (no calibration unless asked)."""
    from ammgc.data.source import located
    from ammgc.prediction.training import prediction_model, train

    with located(mirbase=mirbase):
        return train(dataset, prediction_model(**{**(config or {}), "drug_features": drug_features}), seed=seed,
                     calibrate=calibrate, progress=progress)


def as_benchmark(dataset: Dataset) -> Dataset:
    """``dataset`` as if it were the paper's benchmark (its class and name), so results show the paper's rows."""
    import dataclasses

    from ammgc.data.benchmark import DATASET_NAME, BenchmarkDataset

    fields = {f.name: getattr(dataset, f.name) for f in dataclasses.fields(dataset)}
    return BenchmarkDataset(**{**fields, "name": DATASET_NAME})
