"""What ships about the benchmark's pairs and miRNAs (ammgc.data.derived): verified, attached on load, used offline,
and recomputed by `ammgc data derive` (here from the small miRBase and ncDR subsets in tests/data; the full check,
`ammgc data derive --ncdr ../shared/data/ncdr --mirbase ../shared/data/mirbase --out DIR --check`, runs in
.ci/run where the full copies are at hand)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ammgc.data import derived
from ammgc.data.benchmark import load_benchmark
from ammgc.data.dataset import Dataset
from ammgc.data.ncdr import Ncdr, map_ncdr, read_ncdr
from ammgc.errors import DataError
from ammgc.features import ensure_views
from ammgc.features import shipped as shipped_data
from ammgc.features.mirna import build_sequence_view, load_catalogue
from ammgc.io import file_blob_sha1


@pytest.fixture
def subset_ncdr(ncdr_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ncDR subset, accepted as if it were the published table."""
    monkeypatch.setattr(Ncdr, "files", (replace(Ncdr.files[0], blob_sha1=file_blob_sha1(ncdr_path)),))
    return ncdr_path


def test_the_benchmark_loads_with_its_shipped_publications(benchmark: Dataset) -> None:
    pub = benchmark.publications
    assert pub is not None and "shipped in the package" in pub.source and Ncdr.files[0].blob_sha1[:10] in pub.source
    assert len(pub.pairs) == 3338 and int(pub.known.sum()) == 3326 and len(pub.unmapped) == 12
    # the digest of `map_ncdr` on the published ncDR table (`ammgc data derive ... --check` recomputes it)
    assert pub.digest() == "45f9c8f9e8c63542"
    assert load_benchmark().publications is not None   # the Python API too, with no network and no ncDR


def test_an_edited_benchmark_gets_no_shipped_publications(benchmark_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bench"
    shutil.copytree(benchmark_path, copy)
    pairs = (copy / "drug-miRNA.txt").read_text().splitlines(keepends=True)
    drug, mirna, _ = (int(x) for x in pairs[0].split())
    (copy / "drug-miRNA.txt").write_text("".join(pairs[1:]))   # one pair fewer, in both of its files
    rows = [r.split(",") for r in (copy / "features/drug_miRNA.csv").read_text().splitlines()]
    rows[drug - 1][mirna - 1] = rows[drug - 1][mirna - 1].replace("1", "0")
    (copy / "features/drug_miRNA.csv").write_text("".join(",".join(r) + "\n" for r in rows))
    assert load_benchmark(copy).publications is None


def test_the_shipped_view_is_the_view_computed_from_mirbase(benchmark: Dataset, mirbase_path: Path) -> None:
    """Rows of miRNAs the subset resolves exactly as the full release does equal, bit for bit on the subset's
    columns, what the code computes from those sequences."""
    view = ensure_views(benchmark, ["sequence"]).view("sequence")
    assert view.shape == (754, 1917) and view.blob_sha1 == derived.SHIPPED[derived.SEQUENCE_SCORES]
    assert view.source.startswith("computed from miRBase release 22 (1,917 human stem-loops")
    assert "shipped in the package" in view.source and "721/754 miRNAs resolved" in view.note
    _, shipped = shipped_data.shipped_sequence_view(benchmark.mirna_names)
    catalogue = load_catalogue(mirbase_path)
    computed = build_sequence_view(benchmark.mirna_names, catalogue, use_cache=False, progress=False)
    columns = [shipped.columns.index(c) for c in computed.columns]
    same = [i for i, (a, b) in enumerate(zip(shipped.resolutions, computed.resolutions, strict=True))
            if a.rule != "unresolved" and (a.rule, a.targets) == (b.rule, b.targets)]
    assert len(same) > 30
    np.testing.assert_array_equal(view.matrix[np.ix_(same, columns)], computed.matrix[same])


def test_the_shipped_view_serves_benchmark_names_only_and_never_an_explicit_mirbase(
        benchmark: Dataset, planted: Dataset, mirbase_path: Path) -> None:
    assert shipped_data.shipped_sequence_view(["hsa-mir-21", "hsa-mir-155"]) is not None   # a subset of them
    assert shipped_data.shipped_sequence_view(["hsa-mir-21", "not-a-benchmark-mirna"]) is None
    explicit = ensure_views(benchmark, ["sequence"], mirbase=mirbase_path).view("sequence")
    assert explicit.shape == (754, len(load_catalogue(mirbase_path).columns)) and explicit.blob_sha1 is None
    own = ensure_views(planted, ["sequence"]).view("sequence")   # own names: from miRBase (the subset here)
    assert own.source.startswith("miRBase ")


def test_a_model_trained_on_the_shipped_view_records_its_mirbase(benchmark: Dataset,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from ammgc.features import view_record

    monkeypatch.delenv("AMMGC_MIRBASE")   # no miRBase at all: downloads are blocked in the tests
    dataset = ensure_views(benchmark, ["sequence"])
    record = view_record(dataset, "sequence")
    assert record["mirbase"]["current_release"] == "22" and record["mirbase"]["human_stem_loops"] == 1917
    assert record["mirbase"]["older_releases"] == ["21"] and len(record["mirbase"]["columns_sha256"]) == 64
    assert record["shape"] == [754, 1917]


def test_a_damaged_shipped_file_is_an_error(monkeypatch: pytest.MonkeyPatch, benchmark_path: Path) -> None:
    monkeypatch.setitem(derived.SHIPPED, derived.PUBLICATIONS, "0" * 40)
    derived.read_shipped.cache_clear()
    try:
        with pytest.raises(DataError, match="reinstall ammgc"):
            load_benchmark(benchmark_path)
    finally:
        monkeypatch.undo()
        derived.read_shipped.cache_clear()


def test_derive_recomputes_and_rebuilds_exactly(benchmark: Dataset, subset_ncdr: Path, mirbase_path: Path,
                                                tmp_path: Path, planted: Dataset) -> None:
    catalogue = load_catalogue(mirbase_path)
    files = shipped_data.derive(benchmark, ncdr=subset_ncdr, catalogue=catalogue)
    written = {f.name: f for f in derived.write_derived(files, tmp_path)}
    assert set(written) == set(derived.SHIPPED) and not any(f.same_as_shipped for f in written.values())
    publications = derived.publications_from(files[derived.PUBLICATIONS], benchmark, where="derived")
    expected = map_ncdr(benchmark, read_ncdr(subset_ncdr), source="subset")
    assert publications is not None and publications.digest() == expected.digest()
    assert (publications.references, publications.unmapped, publications.rules) == (
        expected.references, expected.unmapped, expected.rules)
    assert derived.publications_from(files[derived.PUBLICATIONS], planted, where="derived") is None
    found = shipped_data.sequence_view_from(files[derived.SEQUENCE_VIEW], files[derived.SEQUENCE_SCORES],
                                       benchmark.mirna_names, where="derived")
    computed = build_sequence_view(benchmark.mirna_names, catalogue, use_cache=False, progress=False)
    assert found is not None
    np.testing.assert_array_equal(found[0].matrix, computed.matrix)
    assert found[1].unresolved == computed.unresolved
    # a published-table check: a table that is not ncDR's published one is refused
    with pytest.raises(DataError, match="does not match the published file"):
        derived.derive_publications(benchmark, mirbase_path / "hsa_hairpins_miRBase_v22.fa")


def test_cli_derive(subset_ncdr: Path, mirbase_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ammgc.cli import app

    args = ["data", "derive", "--ncdr", str(subset_ncdr), "--mirbase", str(mirbase_path), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--check"])
    assert result.exit_code == 1, result.output   # from subsets: not the shipped files
    assert "DIFFERS from the shipped copy" in result.output and "ammgc.data.derived.SHIPPED" in result.output
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.xz" for name in derived.SHIPPED)
