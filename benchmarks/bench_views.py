"""Time to build each feature view of the benchmark.

    python benchmarks/bench_views.py [--data DIR] [--mirbase DIR]

File views are timed as part of loading the benchmark; the computed views one by one. The
``sequence`` view is built twice in a fresh cache directory: cold (all alignments) and warm (read
back from the cache), and the two matrices are checked to be identical.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _default(env: str, shared: str) -> Path | None:
    if os.environ.get(env):
        return Path(os.environ[env])
    local = ROOT.parent / "shared" / "data" / shared
    return local if local.is_dir() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=_default("AMMGC_DATA", "gcmdr"))
    parser.add_argument("--mirbase", type=Path, default=_default("AMMGC_MIRBASE", "mirbase"))
    args = parser.parse_args()

    from ammgc.data import load_dataset
    from ammgc.features.drug import drug_views_from_smiles
    from ammgc.features.mirna import build_sequence_view, load_catalogue

    rows: list[tuple[str, str, float]] = []
    t = time.perf_counter()
    dataset = load_dataset(args.data)
    rows.append(("file views (load benchmark)", ", ".join(
        f"{v.name} {v.shape[0]}x{v.shape[1]}" for v in dataset.views.values()), time.perf_counter() - t))

    smiles, names = list(dataset.drugs["smiles"]), dataset.drug_names
    drug_views_from_smiles(smiles[:1], names[:1])  # imports (scikit-fingerprints pulls in torch)
    t = time.perf_counter()
    views = drug_views_from_smiles(smiles, names)
    rows.append(("fingerprint_smiles + smiles_code_smiles",
                 f"{views['fingerprint'].shape} {views['smiles_code'].shape}", time.perf_counter() - t))

    t = time.perf_counter()
    catalogue = load_catalogue(args.mirbase)
    rows.append(("miRBase catalogue (parse FASTA)", f"{len(catalogue.columns)} human stem-loops",
                 time.perf_counter() - t))
    with tempfile.TemporaryDirectory() as home:
        os.environ["AMMGC_HOME"] = home
        t = time.perf_counter()
        cold = build_sequence_view(dataset.mirna_names, catalogue)
        unique = len({s for r in cold.resolutions for s in r.sequences})
        rows.append(("sequence (cold cache)", f"{cold.matrix.shape}, {unique} distinct sequences, "
                     f"{cold.n_resolved}/{len(cold.resolutions)} resolved", time.perf_counter() - t))
        t = time.perf_counter()
        warm = build_sequence_view(dataset.mirna_names, catalogue)
        same = warm.from_cache and np.array_equal(cold.matrix, warm.matrix)
        rows.append(("sequence (warm cache)", f"from cache, identical: {same}", time.perf_counter() - t))

    print(f"{'view':<42} {'seconds':>8}  detail")
    for name, detail, seconds in rows:
        print(f"{name:<42} {seconds:>8.2f}  {detail}")
    print(f"(cpu count {os.cpu_count()}, one core used by the aligner)")


if __name__ == "__main__":
    main()
