"""The published benchmark as loaded: counts, tables, views with provenance, quirks, and `ammgc data info`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from ammgc.data import Benchmark, load_dataset
from ammgc.data.benchmark import benchmark_notes, load_benchmark
from ammgc.data.dataset import Dataset
from ammgc.data.validation import find_mean_imputed_rows

BLOB = {f.path: f.blob_sha1 for f in Benchmark.files}


def test_counts(benchmark: Dataset) -> None:
    assert (benchmark.n_drugs, benchmark.n_mirnas, benchmark.n_associations) == (106, 754, 3338)
    assert benchmark.associations.dtype == np.uint8
    assert benchmark.name == "gcmdr-benchmark"


def test_associations_follow_the_pair_list_and_the_matrix(benchmark: Dataset, benchmark_path: Path) -> None:
    pairs = np.loadtxt(benchmark_path / "drug-miRNA.txt", dtype=int)
    expected = np.zeros((106, 754), dtype=np.uint8)
    expected[pairs[:, 0] - 1, pairs[:, 1] - 1] = 1
    assert np.array_equal(benchmark.associations, expected)
    matrix = np.loadtxt(benchmark_path / "features/drug_miRNA.csv", delimiter=",")
    assert np.array_equal(benchmark.associations, matrix)
    assert benchmark.associations[0, 0] == 1 and benchmark.associations[1, 1] == 1  # lines "1 1 1", "2 2 1"


def test_drug_and_mirna_tables(benchmark: Dataset) -> None:
    assert list(benchmark.drugs.columns) == ["name", "cid", "mesh", "smiles"]
    first = benchmark.drugs.iloc[0]
    assert list(first) == ["Ethanol", "702", "D000431", "CCO"]
    assert benchmark.drug_names[23] == "Lithocholic Acid"
    assert benchmark.mirna_names[:2] == ["hsa-mir-29b-1", "hsa-mir-21"]
    assert len(set(benchmark.mirna_names)) == 754


def test_duplicate_drug_names_are_kept_as_published(benchmark: Dataset) -> None:
    assert [i for i, n in enumerate(benchmark.drug_names) if n == "Rituximab"] == [96, 97]
    assert benchmark.drugs["cid"].iloc[96] != benchmark.drugs["cid"].iloc[97]
    assert {"Epirubicin", "Epirubicin HCl"} <= set(benchmark.drug_names)


def test_views_carry_their_provenance(benchmark: Dataset, benchmark_path: Path) -> None:
    expected = {"fingerprint": ("drug", (106, 920), "features/drug_feature_matrix.txt"),
                "smiles_code": ("drug", (106, 85), "features/drug_labelencoding.txt"),
                "expression": ("mirna", (754, 172), "features/ncrna_expression_full.txt")}
    assert set(benchmark.views) == set(expected)  # the GO file is not shipped here
    for name, (entity, shape, rel) in expected.items():
        view = benchmark.view(name)
        assert (view.entity, view.shape) == (entity, shape)
        assert view.source == str(benchmark_path / rel)
        assert view.blob_sha1 == BLOB[rel]
    assert set(np.unique(benchmark.view("fingerprint").matrix)) == {0.0, 1.0}
    codes = benchmark.view("smiles_code").matrix
    assert np.array_equal(codes, np.round(codes))


def test_imputed_expression_rows_are_detected(benchmark: Dataset) -> None:
    expression = benchmark.view("expression").matrix
    imputed = find_mean_imputed_rows(expression)
    assert imputed.sum() == 540
    assert np.allclose(expression[imputed][0], expression[~imputed].mean(axis=0))
    assert benchmark.view("expression").note == "540 of 754 rows are the mean of the known rows (imputed)"
    assert benchmark.view("fingerprint").note == ""


def test_mean_imputation_detector_on_small_cases() -> None:
    known = np.array([[1.0, 2.0], [3.0, 6.0]])
    mean = known.mean(axis=0)
    assert find_mean_imputed_rows(np.vstack([known, mean, mean])).tolist() == [False, False, True, True]
    copies = np.vstack([known, [5.0, 5.0], [5.0, 5.0]])
    assert find_mean_imputed_rows(copies).sum() == 0  # repeated, but not the mean
    assert find_mean_imputed_rows(np.ones((4, 3))).sum() == 0  # all rows alike: nothing to call imputed
    assert find_mean_imputed_rows(known).sum() == 0


def test_quirk_notes(benchmark: Dataset) -> None:
    notes = "\n".join(benchmark_notes(benchmark))
    assert "'Rituximab' appears 2 times (indices 96, 97" in notes
    assert "'Epirubicin' (index 32) and 'Epirubicin HCl' (index 43)" in notes
    assert "drug index 23 is labelled 'Lithocholic Acid'" in notes and "trastuzumab" in notes
    assert "3 drugs have MeSH id 0" in notes


def test_published_files_verify(benchmark_path: Path) -> None:
    assert Benchmark(benchmark_path).verify() == []
    load_benchmark(benchmark_path, verify=True)


def test_load_dataset_recognises_the_layout(benchmark_path: Path) -> None:
    dataset = load_dataset(benchmark_path)
    assert dataset.name == "gcmdr-benchmark" and dataset.n_associations == 3338


def test_cli_info_prints_the_summary_views_and_quirks(benchmark_path: Path) -> None:
    from ammgc.cli import app

    result = CliRunner().invoke(app, ["data", "info", "--data", str(benchmark_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for line in ("drugs:        106", "miRNAs:       754", "associations: 3,338  (density 0.0418)",
                 "drug degree:  min 1, median 3, mean 31.49, max 401, zero 0",
                 f"source:       {benchmark_path}"):
        assert line in out
    for view in ("fingerprint    drug   106 x 920", "smiles_code    drug   106 x 85",
                 "expression     mirna  754 x 172"):
        assert view in out
    assert "[540 of 754 rows are the mean of the known rows (imputed)]" in out
    assert "GO similarity view: absent -> the miRNA `sequence` view" in out
    assert "notes on this benchmark:" in out and "Rituximab" in out


def test_cli_info_json(benchmark_path: Path) -> None:
    from ammgc.cli import app

    result = CliRunner().invoke(app, ["data", "info", "--data", str(benchmark_path), "--json"])
    parsed = json.loads(result.output)
    assert (parsed["drugs"], parsed["mirnas"], parsed["associations"]) == (106, 754, 3338)
    assert [v["name"] for v in parsed["views"]] == ["fingerprint", "smiles_code", "expression"]
    assert parsed["views"][0]["blob_sha1"] == BLOB["features/drug_feature_matrix.txt"]
    assert parsed["notes"] and parsed["warnings"] == []


def test_cli_check_on_the_benchmark_and_an_edited_copy(benchmark_path: Path, tmp_path: Path) -> None:
    from ammgc.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["data", "check", str(benchmark_path)])
    assert result.exit_code == 0, result.output
    assert "check: ok (0 warnings)" in result.output
    copy = tmp_path / "gcmdr"
    shutil.copytree(benchmark_path, copy)
    (copy / "drug-miRNA.txt").chmod(0o644)
    original = (benchmark_path / "drug-miRNA.txt").read_bytes()
    (copy / "drug-miRNA.txt").write_bytes(original.replace(b"\r\n", b"\n"))
    result = runner.invoke(app, ["data", "check", "--strict", str(copy)])
    assert result.exit_code == 1
    assert "drug-miRNA.txt differs from the published file" in result.output


def test_cli_check_missing_path(tmp_path: Path) -> None:
    from ammgc.cli import app
    from ammgc.errors import DataError

    result = CliRunner().invoke(app, ["data", "check", str(tmp_path / "nowhere")])
    assert isinstance(result.exception, DataError) and "no such file or directory" in str(result.exception)
