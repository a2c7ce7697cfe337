"""Every validation case of the benchmark loader: a copy of the benchmark with one file corrupted per test.

Each test names the file, row/column and problem it expects, so it fails if that check is removed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from ammgc.data.benchmark import GO_FILE, check_labelled_matrix, load_benchmark
from ammgc.data.dataset import Dataset
from ammgc.errors import DataError

PAIRS = "drug-miRNA.txt"
FINGERPRINT = "features/drug_feature_matrix.txt"
CODES = "features/drug_labelencoding.txt"
EXPRESSION = "features/ncrna_expression_full.txt"
MATRIX_CSV = "features/drug_miRNA.csv"
DRUGS = "features/drug_list.xlsx"
MIRNAS = "features/miRNA_list.xlsx"


@pytest.fixture
def bench(benchmark_path: Path, tmp_path: Path) -> Path:
    root = tmp_path / "gcmdr"
    shutil.copytree(benchmark_path, root)
    for f in root.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)  # the shared copy is read-only
    return root


def edit_lines(root: Path, rel: str, change: Callable[[list[str]], list[str]]) -> None:
    path = root / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")


def set_cell(root: Path, rel: str, row: int, column: int, value: str, delimiter: str = "\t") -> None:
    """Replace one cell (1-based row and column) of a delimited text file."""
    def change(lines: list[str]) -> list[str]:
        cells = lines[row - 1].split(delimiter)
        cells[column - 1] = value
        lines[row - 1] = delimiter.join(cells)
        return lines
    edit_lines(root, rel, change)


def error_of(root: Path, **kw: object) -> DataError:
    with pytest.raises(DataError) as err:
        load_benchmark(root, **kw)  # type: ignore[arg-type]
    return err.value


def assert_error(err: DataError, rel: str, problem: str, row: int | None = None,
                 column: int | None = None) -> None:
    assert str(err.file).endswith(rel), err
    assert problem in err.problem, err
    if row is not None:
        assert err.row == row, err
    if column is not None:
        assert err.column == column, err


# --- shapes ----------------------------------------------------------------------------------------

def test_drug_features_with_a_row_too_few(bench: Path) -> None:
    edit_lines(bench, FINGERPRINT, lambda lines: lines[:-1])
    assert_error(error_of(bench), FINGERPRINT, "has 105 rows, expected 106")


def test_mirna_features_with_a_row_too_many(bench: Path) -> None:
    edit_lines(bench, EXPRESSION, lambda lines: [*lines, lines[-1]])
    assert_error(error_of(bench), EXPRESSION, "has 755 rows, expected 754")


def test_a_row_with_a_missing_cell(bench: Path) -> None:
    edit_lines(bench, CODES, lambda lines: [*lines[:9], lines[9].rsplit("\t", 1)[0], *lines[10:]])
    assert_error(error_of(bench), CODES, "has 84 columns, earlier rows have 85", row=10)


def test_every_row_with_an_extra_column(bench: Path) -> None:
    edit_lines(bench, EXPRESSION, lambda lines: [line + "\t0.5" for line in lines])
    assert_error(error_of(bench), EXPRESSION, "has 173 columns, expected 172")


def test_association_matrix_of_the_wrong_width(bench: Path) -> None:
    edit_lines(bench, MATRIX_CSV, lambda lines: [line.rsplit(",", 1)[0] for line in lines])
    assert_error(error_of(bench), MATRIX_CSV, "has 753 columns, expected 754")


# --- the pair list ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "problem", "column"), [
    ("107\t5\t1", "drug number 107 outside 1..106", 1),
    ("0\t5\t1", "drug number 0 outside 1..106", 1),
    ("5\t755\t1", "miRNA number 755 outside 1..754", 2),
    ("1.5\t5\t1", "expected a whole number, found '1.5'", 1),
    ("5\tabc\t1", "expected a whole number, found 'abc'", 2),
    ("5\t-3\t1", "expected a whole number, found '-3'", 2),
    ("5\t1_0\t1", "expected a whole number, found '1_0'", 2),
    ("5\t7\t2", "label must be 1, found 2", 3),
    ("5\t7\t0", "label must be 1, found 0", 3),
])
def test_pair_list_bad_line(bench: Path, line: str, problem: str, column: int) -> None:
    edit_lines(bench, PAIRS, lambda lines: [*lines[:4], line, *lines[5:]])
    assert_error(error_of(bench), PAIRS, problem, row=5, column=column)


def test_pair_list_wrong_field_count(bench: Path) -> None:
    edit_lines(bench, PAIRS, lambda lines: [*lines[:2], lines[2] + "\t1", *lines[3:]])
    assert_error(error_of(bench), PAIRS, "expected 3 tab-separated fields", row=3)


def test_pair_list_duplicate_pair(bench: Path) -> None:
    edit_lines(bench, PAIRS, lambda lines: [*lines, lines[10]])
    assert_error(error_of(bench), PAIRS, "duplicate pair", row=3339)


def test_pair_list_blank_line_inside(bench: Path) -> None:
    edit_lines(bench, PAIRS, lambda lines: [*lines[:100], "", *lines[100:]])
    assert_error(error_of(bench), PAIRS, "blank line inside", row=101)


def test_pair_list_missing_a_line_disagrees_with_the_matrix(bench: Path) -> None:
    edit_lines(bench, PAIRS, lambda lines: lines[1:])  # first pair is (1, 1)
    assert_error(error_of(bench), MATRIX_CSV, "disagrees with drug-miRNA.txt at drug 1, miRNA 1",
                 row=1, column=1)


def test_association_matrix_flipped_cell(bench: Path) -> None:
    set_cell(bench, MATRIX_CSV, 3, 1, "1.000000000000000000e+00", delimiter=",")
    assert_error(error_of(bench), MATRIX_CSV, "disagrees with drug-miRNA.txt at drug 3, miRNA 1",
                 row=3, column=1)


# --- cell values -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("rel", "value", "problem"), [
    (EXPRESSION, "nan", "not a number: 'nan'"),
    (EXPRESSION, "NaN", "not a number: 'NaN'"),
    (EXPRESSION, "inf", "not a number: 'inf'"),
    (EXPRESSION, "-Infinity", "not a number: '-Infinity'"),
    (EXPRESSION, "1e999", "not a finite number"),
    (EXPRESSION, "", "not a number: ''"),
    (EXPRESSION, "0.1_5", "not a number: '0.1_5'"),
    (EXPRESSION, "0x1F", "not a number: '0x1F'"),
    (FINGERPRINT, "2", "expected 0 or 1"),
    (FINGERPRINT, "0.5", "expected 0 or 1"),
    (CODES, "1.5", "expected an integer"),
    (CODES, "abc", "not a number: 'abc'"),
])
def test_bad_cell(bench: Path, rel: str, value: str, problem: str) -> None:
    set_cell(bench, rel, 7, 3, value)
    assert_error(error_of(bench), rel, problem, row=7, column=3)


def test_non_binary_association_matrix(bench: Path) -> None:
    set_cell(bench, MATRIX_CSV, 2, 5, "0.5", delimiter=",")
    assert_error(error_of(bench), MATRIX_CSV, "expected 0 or 1", row=2, column=5)


def test_wrong_delimiter(bench: Path) -> None:
    edit_lines(bench, EXPRESSION, lambda lines: [line.replace("\t", ",") for line in lines])
    assert_error(error_of(bench), EXPRESSION, "found 1 column, expected 172; is the delimiter a tab?", row=1)


def test_wrong_delimiter_in_one_row(bench: Path) -> None:
    edit_lines(bench, FINGERPRINT, lambda lines: [*lines[:3], lines[3].replace("\t", " "), *lines[4:]])
    err = error_of(bench)
    assert_error(err, FINGERPRINT, "columns, earlier rows have 920", row=4)


def test_blank_line_inside_a_matrix(bench: Path) -> None:
    edit_lines(bench, EXPRESSION, lambda lines: [*lines[:50], "  ", *lines[50:]])
    assert_error(error_of(bench), EXPRESSION, "blank line inside the matrix", row=51)


# --- files -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", [PAIRS, EXPRESSION, CODES])
def test_empty_file(bench: Path, rel: str) -> None:
    (bench / rel).write_bytes(b"")
    assert_error(error_of(bench), rel, "file is empty")


def test_whitespace_only_file(bench: Path) -> None:
    (bench / FINGERPRINT).write_bytes(b"\r\n \n\t\n")
    assert_error(error_of(bench), FINGERPRINT, "file is empty")


def test_not_utf8(bench: Path) -> None:
    (bench / EXPRESSION).write_bytes(b"0.1\t\xff\xfe\n")
    assert_error(error_of(bench), EXPRESSION, "not a UTF-8 text file")


@pytest.mark.parametrize("rel", [FINGERPRINT, DRUGS, MIRNAS, MATRIX_CSV])
def test_missing_required_file(bench: Path, rel: str) -> None:
    (bench / rel).unlink()
    assert_error(error_of(bench), rel, "required benchmark file is missing")


@pytest.mark.parametrize("rel", [DRUGS, MIRNAS])
def test_unreadable_xlsx_truncated(bench: Path, rel: str) -> None:
    data = (bench / rel).read_bytes()
    (bench / rel).write_bytes(data[: len(data) // 2])
    assert_error(error_of(bench), rel, "unreadable Excel workbook")


def test_unreadable_xlsx_that_is_text(bench: Path) -> None:
    (bench / DRUGS).write_text("cid,mesh,name,smiles\n702,D000431,Ethanol,CCO\n")
    assert_error(error_of(bench), DRUGS, "unreadable Excel workbook")


def edit_workbook(path: Path, change: Callable[[openpyxl.worksheet.worksheet.Worksheet], None]) -> None:
    workbook = openpyxl.load_workbook(path)
    change(workbook.active)
    workbook.save(path)


def test_drug_table_missing_a_drug(bench: Path) -> None:
    edit_workbook(bench / DRUGS, lambda sheet: sheet.delete_rows(50))
    assert_error(error_of(bench), DRUGS, "has 105 drugs, expected 106")


def test_drug_table_empty_name(bench: Path) -> None:
    def blank(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet.cell(row=11, column=3).value = None
    edit_workbook(bench / DRUGS, blank)
    assert_error(error_of(bench), DRUGS, "drug name is empty", row=11)


def test_drug_table_too_few_columns(bench: Path) -> None:
    edit_workbook(bench / DRUGS, lambda sheet: sheet.delete_cols(4))
    assert_error(error_of(bench), DRUGS, "expected 4 columns")


def test_mirna_list_with_an_extra_name(bench: Path) -> None:
    edit_workbook(bench / MIRNAS, lambda sheet: sheet.append(["hsa-mir-new"]))
    assert_error(error_of(bench), MIRNAS, "has 755 miRNAs, expected 754")


def test_mirna_list_with_an_empty_name(bench: Path) -> None:
    def blank(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet.cell(row=30, column=1).value = "  "
    edit_workbook(bench / MIRNAS, blank)
    assert_error(error_of(bench), MIRNAS, "miRNA name is empty", row=30)


# --- published content -----------------------------------------------------------------------------

def test_go_file_is_verified_by_its_hash(bench: Path) -> None:
    (bench / GO_FILE).write_text("\n".join("\t".join(["0.5"] * 2587) for _ in range(754)) + "\n")
    assert_error(error_of(bench), GO_FILE, "does not match the published file")


def test_verify_catches_an_edited_file(bench: Path) -> None:
    set_cell(bench, EXPRESSION, 2, 2, "0.5")
    load_benchmark(bench)  # a plausible value: only the published hash can tell
    assert_error(error_of(bench, verify=True), EXPRESSION, "does not match the published file")


def test_labelled_matrix_must_agree_with_pairs_and_names(benchmark: Dataset, benchmark_path: Path) -> None:
    flipped = benchmark.associations.copy()
    flipped[0, 5] = 1 - flipped[0, 5]
    with pytest.raises(DataError, match="disagrees with drug-miRNA.txt at drug 1, miRNA 6") as err:
        check_labelled_matrix(benchmark_path, benchmark.with_associations(flipped))
    assert (err.value.row, err.value.column) == (2, 7)
    renamed = benchmark.mirnas.copy()
    renamed.loc[3, "name"] = "hsa-mir-renamed"
    with pytest.raises(DataError, match="where miRNA_list.xlsx has 'hsa-mir-renamed'") as err:
        check_labelled_matrix(benchmark_path, replace(benchmark, mirnas=renamed))
    assert (err.value.row, err.value.column) == (1, 5)


# --- tolerated, loading exactly the same data ----------------------------------------------------

def test_line_ends_bom_and_trailing_blank_lines_are_tolerated(bench: Path, benchmark_path: Path) -> None:
    reference = load_benchmark(benchmark_path)
    for rel in (PAIRS, EXPRESSION):
        data = (bench / rel).read_bytes().replace(b"\r\n", b"\n")
        (bench / rel).write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n") + b"\r\n\r\n")
    loaded = load_benchmark(bench)
    assert np.array_equal(loaded.associations, reference.associations)
    assert np.array_equal(loaded.view("expression").matrix, reference.view("expression").matrix)
