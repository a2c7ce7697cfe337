"""Bring-your-own data: the layout, tolerated formatting, and one clear error per kind of problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ammgc.data import load_dataset
from ammgc.data.byo import load_own_dataset, read_own_dataset
from ammgc.errors import DataError
from ammgc.io import file_blob_sha1

BASE = {
    "associations.csv": "drug,mirna,label\nCisplatin,hsa-mir-21,1\nCisplatin,hsa-mir-155,1\n"
                        "Paclitaxel,hsa-mir-155,1\nPaclitaxel,hsa-mir-21,0\n",
    "drugs.csv": "name,smiles,cid\nPaclitaxel,CC(=O)O,36314\nCisplatin,N.N.Cl[Pt+2]Cl,2767\n"
                 "Tamoxifen,CCC,2733526\n",
    "mirnas.csv": "name,sequence\nhsa-mir-21,UAGCUUAUCAGACUGAUGUUGA\nhsa-mir-155,UUAAUGCUAAUCGUGAUAGGGGU\n"
                  "hsa-let-7a,UGAGGUAGUAGGUUGUAUAGUU\n",
    "features/drug/fingerprint.csv": "name,b1,b2,b3\nTamoxifen,1,0,1\nCisplatin,0,1,0\nPaclitaxel,1,1,0\n",
    "features/expression.tsv": "id\tcellA\tcellB\nhsa-mir-155\t0.5\t1.5\nhsa-mir-21\t2\t3\n"
                               "hsa-let-7a\t-1e-3\t4\n",
}


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def make(tmp_path: Path, changes: dict[str, str | bytes | None] | None = None) -> Path:
    """The base dataset with some files replaced, or removed (None)."""
    files: dict[str, str | bytes] = dict(BASE)
    for rel, content in (changes or {}).items():
        if content is None:
            files.pop(rel)
        else:
            files[rel] = content
    return write(tmp_path / "own", files)


def error_of(path: Path) -> DataError:
    with pytest.raises(DataError) as err:
        load_own_dataset(path)
    return err.value


def test_layout_loads_in_table_order_with_provenance(tmp_path: Path) -> None:
    root = make(tmp_path)
    dataset = load_own_dataset(root)
    assert dataset.drug_names == ["Paclitaxel", "Cisplatin", "Tamoxifen"]  # drugs.csv order
    assert dataset.mirna_names == ["hsa-mir-21", "hsa-mir-155", "hsa-let-7a"]
    assert dataset.associations.tolist() == [[0, 1, 0], [1, 1, 0], [0, 0, 0]]  # label 0 is not an association
    assert list(dataset.drugs["cid"]) == ["36314", "2767", "2733526"]
    assert list(dataset.drugs["mesh"]) == ["", "", ""]
    assert dataset.mirnas["sequence"].iloc[0] == "UAGCUUAUCAGACUGAUGUUGA"
    fingerprint, expression = dataset.view("fingerprint"), dataset.view("expression")
    assert fingerprint.entity == "drug" and expression.entity == "mirna"  # by folder, then by names
    assert fingerprint.matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]  # rows reordered to drug order
    assert expression.matrix.tolist() == [[2, 3], [0.5, 1.5], [-1e-3, 4]]
    assert expression.source == str(root / "features/expression.tsv")
    assert expression.blob_sha1 == file_blob_sha1(root / "features/expression.tsv")
    assert expression.shape == (3, 2)
    assert dataset.source == str(root) and dataset.name == "own"


def test_listed_entities_without_associations_are_kept_and_reported(tmp_path: Path) -> None:
    own = read_own_dataset(make(tmp_path))
    assert own.dataset.n_drugs == 3 and own.dataset.n_mirnas == 3
    assert any("1 drugs and 1 miRNAs have no known association; they are kept" in w for w in own.warnings)


def test_association_table_alone(tmp_path: Path) -> None:
    path = write(tmp_path, {"pairs.tsv": "Drug\tmiRNA\nb\tm1\na\tm2\nb\tm2\n"}) / "pairs.tsv"
    dataset = load_dataset(path)
    assert dataset.drug_names == ["b", "a"]  # order of first appearance
    assert dataset.mirna_names == ["m1", "m2"]
    assert dataset.associations.tolist() == [[1, 1], [0, 1]]
    assert dataset.views == {}
    assert list(dataset.drugs.columns) == ["name", "cid", "mesh", "smiles"]


def test_bom_crlf_semicolons_quotes_blank_lines_and_spaces_are_tolerated(tmp_path: Path) -> None:
    plain = load_own_dataset(make(tmp_path / "a"))
    messy = {
        "associations.csv": "\ufeffdrug ; mirna ; label\r\n Cisplatin ;hsa-mir-21;1\r\n\r\n"
                            "Cisplatin;\"hsa-mir-155\";1\r\nPaclitaxel;hsa-mir-155; 1 \r\n"
                            "Paclitaxel;hsa-mir-21;0\r\n\r\n",
        "drugs.csv": "\ufeffname\tsmiles\tcid\r\nPaclitaxel\tCC(=O)O\t36314\r\n"
                     "Cisplatin\tN.N.Cl[Pt+2]Cl\t2767\r\n"
                     "Tamoxifen\tCCC\t2733526\r\n",
    }
    loaded = load_own_dataset(make(tmp_path / "b", messy))
    assert loaded.drug_names == plain.drug_names and loaded.mirna_names == plain.mirna_names
    assert np.array_equal(loaded.associations, plain.associations)


def test_quoted_names_may_hold_the_delimiter(tmp_path: Path) -> None:
    root = write(tmp_path, {"associations.csv": 'drug,mirna\n"5,6-dihydro-x",m1\n'})
    assert load_own_dataset(root).drug_names == ["5,6-dihydro-x"]


# --- names -----------------------------------------------------------------------------------------

def test_unknown_drug_gets_a_did_you_mean_hint_for_case(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"associations.csv": "drug,mirna\ncisplatin,hsa-mir-21\n"}))
    assert err.problem == "unknown drug 'cisplatin': not in drugs table (did you mean 'Cisplatin'?)"
    assert str(err.file).endswith("associations.csv") and (err.row, err.column) == (2, 1)


def test_unknown_mirna_gets_a_did_you_mean_hint_for_spelling(tmp_path: Path) -> None:
    content = "drug,mirna\nCisplatin,hsa-mir-21\nCisplatin,hsa-mir-15\n"
    err = error_of(make(tmp_path, {"associations.csv": content}))
    assert "unknown miRNA 'hsa-mir-15'" in err.problem and "did you mean 'hsa-mir-155'?" in err.problem
    assert (err.row, err.column) == (3, 2)


def test_unknown_name_without_a_close_match_has_no_hint(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"associations.csv": "drug,mirna\nZzyzx,hsa-mir-21\n"}))
    assert "unknown drug 'Zzyzx'" in err.problem and "did you mean" not in err.problem


@pytest.mark.parametrize(("rel", "content", "problem", "row"), [
    ("drugs.csv", "name\nA\nB\nA\n", "duplicate drug name 'A' (also row 2)", 4),
    ("mirnas.csv", "name\nm1\n m1 \n", "duplicate miRNA name 'm1' (also row 2)", 3),
    ("associations.csv", "drug,mirna\nCisplatin,hsa-mir-21\nCisplatin,hsa-mir-21\n", "duplicate pair", 3),
    ("associations.csv", "drug,mirna,label\nCisplatin,hsa-mir-21,1\nCisplatin,hsa-mir-21,0\n",
     "duplicate pair", 3),
    ("features/drug/fingerprint.csv", "name,b\nTamoxifen,1\nCisplatin,0\nTamoxifen,1\nPaclitaxel,1\n",
     "duplicate name 'Tamoxifen' (also row 2)", 4),
])
def test_duplicates_are_errors(tmp_path: Path, rel: str, content: str, problem: str, row: int) -> None:
    err = error_of(make(tmp_path, {rel: content}))
    assert problem in err.problem and err.row == row


def test_names_differing_only_in_case_are_kept_with_a_warning(tmp_path: Path) -> None:
    root = write(tmp_path, {"associations.csv": "drug,mirna\nd,hsa-miR-21\nd,hsa-mir-21\n"})
    own = read_own_dataset(root)
    assert own.dataset.mirna_names == ["hsa-miR-21", "hsa-mir-21"]
    root2 = write(tmp_path / "b", {"associations.csv": "drug,mirna\nd,m\n", "mirnas.csv": "name\nM\nm\n"})
    assert any("differ only in case" in w for w in read_own_dataset(root2).warnings)


@pytest.mark.parametrize(("rel", "content", "problem", "row"), [
    ("drugs.csv", "name,smiles\nA,C\n,CC\n", "empty drug name", 3),
    ("associations.csv", "drug,mirna\nCisplatin,\n", "empty miRNA name", 2),
])
def test_empty_names(tmp_path: Path, rel: str, content: str, problem: str, row: int) -> None:
    err = error_of(make(tmp_path, {rel: content}))
    assert problem in err.problem and err.row == row


# --- table structure -------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "problem"), [
    ("drug,target\nCisplatin,hsa-mir-21\n", "needs column(s) mirna"),
    ("drug mirna\nCisplatin hsa-mir-21\n", "separate columns with a comma, tab or semicolon"),
    ("drug|mirna\nCisplatin|hsa-mir-21\n", "separate columns with a comma, tab or semicolon"),
    ("Cisplatin,hsa-mir-21\n",
     "needs column(s) drug, mirna; the header (first line) is 'Cisplatin,hsa-mir-21'"),
])
def test_missing_columns_or_wrong_delimiter(tmp_path: Path, content: str, problem: str) -> None:
    err = error_of(make(tmp_path, {"associations.csv": content}))
    assert problem in err.problem and err.row == 1


def test_rows_with_the_wrong_number_of_fields(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"associations.csv": "drug,mirna\nCisplatin,hsa-mir-21,1\n"}))
    assert "has 3 fields, the header has 2" in err.problem and err.row == 2
    err = error_of(make(tmp_path / "b", {"associations.csv": "drug,mirna\nCisplatin;hsa-mir-21\n"}))
    assert "has 1 fields" in err.problem and "seems to use a semicolon" in err.problem


def test_ambiguous_delimiter(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"associations.csv": "drug,x;mirna\nA,b;c\n"}))
    assert "cannot tell the delimiter" in err.problem


@pytest.mark.parametrize("label", ["2", "yes", "0.5", "", "nan", "-1"])
def test_non_binary_labels(tmp_path: Path, label: str) -> None:
    err = error_of(make(tmp_path, {"associations.csv": f"drug,mirna,label\nCisplatin,hsa-mir-21,{label}\n"}))
    assert "label must be 0 or 1" in err.problem and (err.row, err.column) == (2, 3)


def test_labels_written_as_decimals_are_fine(tmp_path: Path) -> None:
    content = "drug,mirna,label\nCisplatin,hsa-mir-21,1.0\nCisplatin,hsa-mir-155,0\n"
    root = make(tmp_path, {"associations.csv": content})
    assert load_own_dataset(root).n_associations == 1


def test_no_positive_association(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"associations.csv": "drug,mirna,label\nCisplatin,hsa-mir-21,0\n"}))
    assert "no association has label 1" in err.problem


@pytest.mark.parametrize(("rel", "content", "problem"), [
    ("associations.csv", "", "file is empty"),
    ("associations.csv", " \r\n\r\n", "file is empty"),
    ("associations.csv", "drug,mirna\n", "lists no associations"),
    ("drugs.csv", "name,smiles\n", "lists no drugs"),
    ("mirnas.csv", "", "file is empty"),
    ("features/expression.tsv", "", "file is empty"),
    ("features/expression.tsv", "name\tx\n", "header but no rows"),
    ("associations.csv", b"drug,mirna\nCispl\xe4tin,hsa-mir-21\n", "not a UTF-8 text file"),
])
def test_empty_or_unreadable_files(tmp_path: Path, rel: str, content: str | bytes, problem: str) -> None:
    assert problem in error_of(make(tmp_path, {rel: content})).problem


def test_unreadable_locations(tmp_path: Path) -> None:
    assert "not a dataset" in error_of(write(tmp_path / "empty", {"readme.txt": "x"})).problem
    assert "no such file" in error_of(tmp_path / "nowhere").problem
    (tmp_path / "pairs.xlsx").write_bytes(b"PK")
    assert "save the table as CSV" in error_of(tmp_path / "pairs.xlsx").problem
    both = make(tmp_path / "both", {"associations.tsv": "drug\tmirna\nCisplatin\thsa-mir-21\n"})
    assert "associations.csv and associations.tsv both exist" in error_of(both).problem


# --- feature tables --------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "problem"), [
    ("nan", "not a number: 'nan'"),
    ("inf", "not a number: 'inf'"),
    ("-inf", "not a number: '-inf'"),
    ("1e400", "not a finite number"),
    ("abc", "not a number: 'abc'"),
    ("", "empty cell"),
    ("1,5", "not a number: '1,5'"),
])
def test_bad_feature_values(tmp_path: Path, value: str, problem: str) -> None:
    content = f'id\tcellA\tcellB\nhsa-mir-155\t0.5\t1.5\nhsa-mir-21\t2\t"{value}"\nhsa-let-7a\t1\t4\n'
    err = error_of(make(tmp_path, {"features/expression.tsv": content}))
    assert problem in err.problem and (err.row, err.column) == (3, 3)
    assert str(err.file).endswith("expression.tsv")


def test_feature_table_missing_a_row(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"features/drug/fingerprint.csv": "name,b\nTamoxifen,1\nCisplatin,0\n"}))
    assert err.problem == "has 2 rows for 3 drugs; no row for 'Paclitaxel'"


def test_feature_table_with_an_unknown_name(tmp_path: Path) -> None:
    content = "name,b\nTamoxifen,1\nCisplatin,0\nPaclitaxel,1\nTamoxiphen,1\n"
    err = error_of(make(tmp_path, {"features/drug/fingerprint.csv": content}))
    assert err.problem == "unknown drug 'Tamoxiphen' (did you mean 'Tamoxifen'?)" and err.row == 5


def test_feature_table_without_features(tmp_path: Path) -> None:
    content = "name\nTamoxifen\nCisplatin\nPaclitaxel\n"
    err = error_of(make(tmp_path, {"features/drug/fingerprint.csv": content}))
    assert "needs a name column and at least one feature column" in err.problem


def test_feature_entity_must_be_decidable(tmp_path: Path) -> None:
    mixed = "name,x\nhsa-mir-21,1\nCisplatin,2\nhsa-let-7a,3\n"
    err = error_of(make(tmp_path, {"features/expression.tsv": None, "features/mixed.csv": mixed}))
    assert "'Cisplatin' is neither a drug nor a miRNA name" in err.problem and err.row == 3
    unknown = "name,x\nfoo,1\n"
    err = error_of(make(tmp_path / "b", {"features/odd.csv": unknown}))
    assert "neither a drug nor a miRNA" in err.problem
    shared = {"associations.csv": "drug,mirna\nX,X\n"}
    err = error_of(write(tmp_path / "c", {**shared, "features/f.csv": "name,v\nX,1\n"}))
    assert "both drug and miRNA names" in err.problem
    fine = load_own_dataset(write(tmp_path / "d", {**shared, "features/mirna/f.csv": "name,v\nX,1\n"}))
    assert fine.view("f").entity == "mirna"


def test_two_views_with_one_name(tmp_path: Path) -> None:
    content = "name,b\nTamoxifen,1\nCisplatin,0\nPaclitaxel,1\n"
    err = error_of(make(tmp_path, {"features/fingerprint.csv": content}))
    assert "a second feature view named 'fingerprint'" in err.problem


def test_imputed_and_zero_rows_are_noted(tmp_path: Path) -> None:
    rows = "name,a,b\nm1,1,2\nm2,3,4\nm3,2,3\nm4,2,3\nm5,0,0\n"
    root = write(tmp_path, {"associations.csv": "drug,mirna\nd,m1\nd,m2\nd,m3\nd,m4\nd,m5\n",
                            "features/mirna/e.csv": rows})
    own = read_own_dataset(root)
    assert own.dataset.view("e").note == "1 of 5 rows are all zero"  # m3, m4 are not the mean of the rest
    rows_imputed = "name,a,b\nm1,1,2\nm2,3,4\nm3,2,3\nm4,2,3\nm5,2,3\n"
    write(root, {"features/mirna/e.csv": rows_imputed})
    own = read_own_dataset(root)
    assert own.dataset.view("e").note == "3 of 5 rows are the mean of the other rows (imputed)"
    write(root, {"features/mirna/e.csv": rows.replace("m3,2,3", "m3,0,0")})
    assert "2 of 5 rows are all zero" in read_own_dataset(root).dataset.view("e").note


def test_ignored_files_and_columns_are_warned_about(tmp_path: Path) -> None:
    root = make(tmp_path, {"associations.csv": "drug,mirna,source\nCisplatin,hsa-mir-21,ncDR\n",
                           "features/notes.md": "x", "features/other/x.csv": "name,a\n"})
    warnings = read_own_dataset(root).warnings
    assert any("column(s) 'source' ignored" in w for w in warnings)
    assert any("notes.md: ignored" in w for w in warnings)
    assert any("other: ignored" in w for w in warnings)


def test_bad_sequences_are_errors_and_bad_smiles_warnings(tmp_path: Path) -> None:
    err = error_of(make(tmp_path, {"mirnas.csv": "name,sequence\nhsa-mir-21,UAGC\nhsa-mir-155,UAG1C\n"}))
    assert "nucleotide codes" in err.problem and err.row == 3
    drugs = "name,smiles\nPaclitaxel,CC(=O)O\nCisplatin,C1CC\nTamoxifen,\n"
    root = make(tmp_path / "b", {"drugs.csv": drugs})
    assert any("SMILES of 1 drug(s) do not parse (Cisplatin)" in w for w in read_own_dataset(root).warnings)


# --- the command line ------------------------------------------------------------------------------

def test_cli_check_and_info_on_own_data(tmp_path: Path) -> None:
    from ammgc.cli import app

    root = make(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["data", "check", str(root)])
    assert result.exit_code == 0, result.output
    assert "drugs:        3" in result.output and "warnings:" in result.output
    assert "check: ok (2 warnings)" in result.output  # a drug and a miRNA without pairs; a negative feature value
    assert "negative feature value -0.001" in result.output
    assert runner.invoke(app, ["data", "check", "--strict", str(root)]).exit_code == 1
    parsed = json.loads(runner.invoke(app, ["data", "check", "--json", str(root)]).output)
    assert parsed["associations"] == 3 and len(parsed["warnings"]) == 2
    # --data names the dataset as on every other command
    assert json.loads(runner.invoke(app, ["data", "check", "--json", "--data", str(root)]).output) == parsed
    info = runner.invoke(app, ["data", "info", "--data", str(root)])
    assert info.exit_code == 0 and "fingerprint    drug" in info.output and "notes on" not in info.output
    broken = make(tmp_path / "b", {"associations.csv": "drug,mirna\ncisplatin,hsa-mir-21\n"})
    failed = runner.invoke(app, ["data", "check", str(broken)])
    assert isinstance(failed.exception, DataError) and "did you mean 'Cisplatin'" in str(failed.exception)


def test_cv_on_own_data_without_feature_files_picks_the_views_it_can_have(tmp_path: Path) -> None:
    """No feature table at all: drug views from SMILES, the miRNA views it can compute (sequence), said
    on stderr, and no error to retry around."""
    import shutil

    from conftest import write_tiny_own_dataset

    from ammgc.cli import app

    root = write_tiny_own_dataset(tmp_path / "own")
    shutil.rmtree(root / "features")
    fast = ["-o", "epochs_gcn=2", "-o", "epochs_attention=2", "-o", "hidden=[4,4]"]
    result = CliRunner().invoke(app, ["cv", "--data", str(root), "--repeats", "1", "--folds", "3", "--jobs", "1",
                                      *fast, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "miRNA view 'expression' is not in" in result.output
    assert "drug fingerprint_smiles, smiles_code_smiles; miRNA sequence" in result.output
    views = json.loads((tmp_path / "a" / "metrics.json").read_text())["views"]
    assert views["drug"] == ["fingerprint_smiles", "smiles_code_smiles"] and views["mirna"] == ["sequence"]


def test_publication_columns_enable_the_study_and_time_splits(tiny_own_data: Path) -> None:
    from ammgc.evaluation.splits import StudySplit, TimeSplit

    table = (tiny_own_data / "associations.csv").read_text().splitlines()
    # two pairs per publication, and the last pair with no publication given
    pmids = [str(10 + k // 2) for k in range(len(table) - 2)] + [""]
    rows = [f"{row},{pmid}" for row, pmid in zip(table[1:], pmids, strict=True)]
    (tiny_own_data / "associations.csv").write_text("drug,mirna,pmid\n" + "\n".join(rows) + "\n")
    dataset = load_own_dataset(tiny_own_data)
    pub = dataset.publications
    assert pub is not None and pub.kind == "pmid" and int((~pub.known).sum()) == 1
    study = list(StudySplit(n_folds=3, repeats=1).split(dataset))
    assert sum(len(f.held_out) for f in study) == dataset.n_associations
    time = list(TimeSplit((0.5,)).split(dataset))
    assert len(time) == 1 and 0 < len(time[0].held_out) < dataset.n_associations

    by_year = ["drug,mirna,source,year"] + [f"{row},lab{k % 4},{2010 + k % 5}" for k, row in enumerate(table[1:])]
    (tiny_own_data / "associations.csv").write_text("\n".join(by_year) + "\n")
    pub = load_own_dataset(tiny_own_data).publications
    assert pub is not None and pub.kind == "year" and pub.known.all()
    assert set(pub.group) <= {"lab0", "lab1", "lab2", "lab3"}


@pytest.mark.parametrize(("header", "cell", "problem"), [
    ("pmid", "12a", "PubMed id"), ("pmid", "٣", "PubMed id"), ("pmid", "0", "PubMed id"),
    ("source,year", "lab,19x", "year must be a year"), ("source,year", "lab,1700", "year must be a year"),
    ("source,year", ",2001", "source is empty"), ("pmid,source,year", "1,lab,2001", "not both"),
])
def test_bad_publication_cells_name_file_row_and_problem(tmp_path: Path, header: str, cell: str,
                                                         problem: str) -> None:
    root = make(tmp_path, {"associations.csv": f"drug,mirna,{header}\nCisplatin,hsa-mir-21,{cell}\n"})
    with pytest.raises(DataError, match=problem) as info:
        load_own_dataset(root)
    assert "associations.csv" in str(info.value)


def test_study_split_on_own_data_without_publications_says_what_to_add(tiny_own_data: Path) -> None:
    from ammgc import StudySplit, load_dataset, methods
    from ammgc.experiments.cv import run_cv

    with pytest.raises(DataError, match="add a `pmid` column"):
        run_cv(methods.get("popularity"), load_dataset(tiny_own_data), StudySplit(), out=tiny_own_data.parent / "out")
    assert not (tiny_own_data.parent / "out" / "folds").exists()


def test_cv_report_sets_popularity_beside_the_method_and_curves_show_auc(tiny_own_data: Path) -> None:
    from ammgc import PairSplit, load_dataset, methods
    from ammgc.experiments.cv import run_cv

    out = tiny_own_data.parent / "cv"
    run_cv(methods.get("cf"), load_dataset(tiny_own_data), PairSplit(3, 1), out=out)
    report = (out / "report.md").read_text()
    assert "| popularity, same folds" in report and "(paper)" not in report
    assert len(list((out / "popularity-same-folds" / "folds").glob("r*_f*.json"))) == 3
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("split", ["study", "time"])
def test_cli_cv_runs_the_honest_protocols_on_own_data(tiny_own_data: Path, split: str) -> None:
    from ammgc.cli import app

    table = (tiny_own_data / "associations.csv").read_text().splitlines()
    rows = [f"{row},{2001 + k % 5},lab{k % 6}" for k, row in enumerate(table[1:])]
    (tiny_own_data / "associations.csv").write_text("drug,mirna,year,source\n" + "\n".join(rows) + "\n")
    out = tiny_own_data.parent / f"cv-{split}"
    args = ["cv", "--data", str(tiny_own_data), "--split", split, "--out", str(out), "--jobs", "1",
            "-o", "epochs_gcn=3", "-o", "epochs_attention=3", "-o", "hidden=[8,8]",
            "-o", 'drug_views=["fingerprint_smiles","smiles_code_smiles"]', "-o", 'mirna_views=["expression"]']
    args += ["--folds", "2", "--repeats", "1"] if split == "study" else ["--cutoffs", "0.5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads((out / "metrics.json").read_text())
    assert body["split"] == split and len(body["folds"]) == (2 if split == "study" else 1)
    # own data with a publication column: the activity prior counts its studies
    assert body["views"]["prior_counts"] == "studies"
    assert {"drug_ap", "prec_at_100", "drug_recall_at_20"} <= set(body["mean"])


def test_cv_on_own_data_picks_the_views_it_can_have(tiny_own_data: Path, tmp_path: Path) -> None:
    """No drug feature tables, SMILES given, an expression table: cv computes the drug views from SMILES
    and says so, as predict does, instead of failing on the benchmark's file views."""
    from ammgc.cli import app

    result = CliRunner().invoke(app, ["cv", "--data", str(tiny_own_data), "--folds", "2", "--repeats", "1",
                                      "--jobs", "1", "-o", "epochs_gcn=3", "-o", "epochs_attention=3",
                                      "-o", 'mirna_views=["expression"]', "--out", str(tmp_path / "cv")])
    assert result.exit_code == 0, result.output
    assert "drug fingerprint_smiles, smiles_code_smiles; miRNA expression" in result.output
    record = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    assert record["views"]["drug"] == ["fingerprint_smiles", "smiles_code_smiles"]
