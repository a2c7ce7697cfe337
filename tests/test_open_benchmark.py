"""The open benchmark: exported folds as files, any tool's scores of them graded exactly as `ammgc cv` grades."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_planted_dataset, run_cli, with_synthetic_publications, write_tiny_own_dataset

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.evaluation import evaluate_predictions, export_folds
from ammgc.evaluation.metrics import METRICS
from ammgc.evaluation.open_benchmark import entity_ids, read_export
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import ColdStartSplit, PairSplit, Splitter, StudySplit, TimeSplit

PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmark-your-method.md"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return with_synthetic_publications(make_planted_dataset())


def write_scores(folds: Path, out: Path, score: Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]) -> Path:
    """out/<fold-id>/scores.csv for every exported fold, from ``score(train, candidates)``."""
    for fold in read_export(folds).fold_ids:
        train = pd.read_csv(folds / fold / "train.csv", keep_default_na=False)
        candidates = pd.read_csv(folds / fold / "candidates.csv", keep_default_na=False)
        candidates["score"] = score(train, candidates)
        (out / fold).mkdir(parents=True, exist_ok=True)
        candidates.to_csv(out / fold / "scores.csv", index=False)
    return out


def popularity_scores(dataset: Dataset, cv: Splitter, folds: Path, out: Path) -> Path:
    """The scores ammgc's popularity gives each fold's candidates, keyed by the export's identifiers."""
    drug_ids, mirna_ids = np.array(entity_ids(dataset.drug_names)), np.array(entity_ids(dataset.mirna_names))
    for fold in cv.split(dataset):
        scores = methods.get("popularity").fit(dataset, fold.train).predict_scores()
        pairs = fold.candidates[::-1]  # any order
        table = pd.DataFrame({"drug": drug_ids[pairs[:, 0]], "mirna": mirna_ids[pairs[:, 1]],
                              "score": scores[pairs[:, 0], pairs[:, 1]]})
        (out / fold.key).mkdir(parents=True, exist_ok=True)
        table.to_csv(out / fold.key / "scores.csv", index=False)
    return out


def documented_scorer() -> str:
    """The Python example of docs/benchmark-your-method.md: a degree product from train.csv and candidates.csv."""
    block = re.search(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert block, "docs/benchmark-your-method.md lost its Python example"
    return block.group(1)


def run_documented_scorer(folds: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = documented_scorer()
    assert "ammgc" not in code and len(code.strip().splitlines()) <= 16
    monkeypatch.setattr(sys, "argv", ["score.py", str(folds), str(out)])
    exec(compile(code, str(PAGE), "exec"), {"__name__": "__main__"})


# --- export -------------------------------------------------------------------------------------------------

def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_options_give_byte_identical_files(dataset: Dataset, tmp_path: Path) -> None:
    cv = StudySplit(n_folds=3, repeats=2, seed=3)
    first = export_folds(dataset, cv, tmp_path / "a")
    export_folds(dataset, cv, tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "drugs.csv", "manifest.json", "mirnas.csv", *(f"r0{r}_f0{k}" for r in range(2) for k in range(3))]
    assert sorted(p.name for p in (tmp_path / "a" / "r01_f02").iterdir()) == ["candidates.csv", "test.csv",
                                                                             "train.csv"]
    assert first["protocol"] == {"split": "study", "n_folds": 3, "repeats": 2, "seed": 3}
    (tmp_path / "plain").mkdir()  # the export's folder has the mode a plain folder gets, not a temporary's
    assert (tmp_path / "a").stat().st_mode == (tmp_path / "plain").stat().st_mode
    assert first["dataset"]["name"] == "planted" and len(first["dataset"]["sha256"]) == 64
    assert [f["id"] for f in first["folds"]] == [f.key for f in cv.split(dataset)]
    # another seed is another export, with other hashes
    other = export_folds(dataset, replace(cv, seed=4), tmp_path / "c")
    assert other["folds_sha256"] != first["folds_sha256"]
    assert other["dataset"]["sha256"] == first["dataset"]["sha256"]


def test_the_files_are_the_folds_cross_validate_ranks(dataset: Dataset, tmp_path: Path) -> None:
    cv = PairSplit(n_folds=3, repeats=1)
    export_folds(dataset, cv, tmp_path / "f")
    names, mirnas = np.array(dataset.drug_names), np.array(dataset.mirna_names)
    for fold in cv.split(dataset):
        folder = tmp_path / "f" / fold.key
        train = pd.read_csv(folder / "train.csv")
        assert set(zip(train.drug, train.mirna, strict=True)) == {
            (names[d], mirnas[m]) for d, m in np.argwhere(fold.train == 1)}
        candidates = pd.read_csv(folder / "candidates.csv")
        assert list(zip(candidates.drug, candidates.mirna, strict=True)) == [
            (names[d], mirnas[m]) for d, m in fold.candidates]
        test = pd.read_csv(folder / "test.csv")
        assert list(zip(test.drug, test.mirna, strict=True)) == [
            (names[d], mirnas[m]) for d, m in fold.candidates[fold.labels == 1]]


def test_an_existing_folder_is_written_only_when_empty_or_holding_the_same_export(dataset: Dataset,
                                                                                   tmp_path: Path) -> None:
    cv = TimeSplit()
    (tmp_path / "empty").mkdir()
    export_folds(dataset, cv, tmp_path / "empty")
    before = tree(tmp_path / "empty")
    export_folds(dataset, cv, tmp_path / "empty")  # the same export: nothing to do
    assert tree(tmp_path / "empty") == before
    with pytest.raises(AmmgcError, match="holds a different export"):
        export_folds(dataset, TimeSplit(cutoffs=(0.5, 0.7)), tmp_path / "empty")
    assert tree(tmp_path / "empty") == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(AmmgcError, match="not empty and holds no exported folds"):
        export_folds(dataset, cv, tmp_path / "other")
    assert tree(tmp_path / "other") == {"notes.txt": b"mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "other"]  # no staging folder left behind


def test_shared_names_get_unambiguous_identifiers(dataset: Dataset, tmp_path: Path) -> None:
    names = dataset.drug_names
    names[5] = names[2] = "Rituximab"
    twins = replace(dataset, drugs=dataset.drugs.assign(name=names))
    assert entity_ids(["a", "b", "a", "a#1"]) == ["a#2", "b", "a#3", "a#1"]
    export_folds(twins, PairSplit(n_folds=2, repeats=1), tmp_path / "f")
    drugs = pd.read_csv(tmp_path / "f" / "drugs.csv")
    assert drugs.columns.tolist() == ["drug", "name"]
    assert drugs.loc[[2, 5], "drug"].tolist() == ["Rituximab#1", "Rituximab#2"]
    assert drugs.loc[[2, 5], "name"].tolist() == ["Rituximab", "Rituximab"]
    assert drugs.drug.is_unique


# --- grading ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cv", [PairSplit(n_folds=3, repeats=2), StudySplit(n_folds=3, repeats=2), TimeSplit(),
                                ColdStartSplit(side="mirna", n_folds=3, repeats=1)], ids=lambda cv: cv.kind)
def test_popularitys_scores_grade_as_cross_validate_scores_popularity(dataset: Dataset, cv: Splitter,
                                                                      tmp_path: Path) -> None:
    export_folds(dataset, cv, tmp_path / "folds")
    popularity_scores(dataset, cv, tmp_path / "folds", tmp_path / "scores")
    body = evaluate_predictions(tmp_path / "folds", tmp_path / "scores", tmp_path / "out", dataset=dataset)
    expected = cross_validate("popularity", dataset, cv)
    assert len(body["folds"]) == len(expected.folds)
    for graded, ours in zip(body["folds"], expected.folds, strict=True):
        assert (graded["repeat"], graded["fold"]) == (ours["repeat"], ours["fold"])
        for m in (*METRICS, "threshold", "prevalence"):
            assert graded[m] == pytest.approx(ours[m], abs=1e-6, nan_ok=True), m
    for m in METRICS:
        assert body["mean"][m] == pytest.approx(expected.mean[m], abs=1e-6, nan_ok=True)
        assert body["sem"][m] == pytest.approx(expected.sem[m], abs=1e-6, nan_ok=True)
        assert body["paired_differences"]["popularity"][m]["mean"] == pytest.approx(0.0, abs=1e-12)
    # the references beside it: popularity as cross_validate runs it, popularity-studies on the same folds
    reference = json.loads((tmp_path / "out" / "popularity" / "metrics.json").read_text())
    assert reference["mean"]["ap"] == pytest.approx(expected.mean["ap"], abs=1e-12)
    studies = json.loads((tmp_path / "out" / "popularity-studies" / "metrics.json").read_text())
    assert studies["mean"]["auc"] == pytest.approx(
        cross_validate("popularity-studies", dataset, cv).mean["auc"], abs=1e-12)
    assert {"metrics.json", "report.md", "curves.png"} <= {p.name for p in (tmp_path / "out").iterdir()}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "popularity-studies, same folds" in report and body["export"]["folds_sha256"] in report


def test_a_degree_product_computed_outside_ammgc_matches_popularity_under_the_time_split(
        dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's bar: the page's example reads only train.csv and candidates.csv; graded, it is popularity."""
    cv = TimeSplit()
    export_folds(dataset, cv, tmp_path / "folds")
    run_documented_scorer(tmp_path / "folds", tmp_path / "scores", monkeypatch)
    body = evaluate_predictions(tmp_path / "folds", tmp_path / "scores", dataset=dataset)
    expected = cross_validate("popularity", dataset, cv)
    assert body["mean"]["auc"] == expected.mean["auc"] and body["mean"]["ap"] == expected.mean["ap"]
    assert [f["ap"] for f in body["folds"]] == [f["ap"] for f in expected.folds]
    # without the dataset the files alone are graded, popularity beside them
    alone = evaluate_predictions(tmp_path / "folds", tmp_path / "scores")
    assert alone["mean"]["auc"] == expected.mean["auc"] and list(alone["references"]) == ["popularity"]


def test_own_data_with_publications_through_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = write_tiny_own_dataset(tmp_path / "own")
    pairs = pd.read_csv(root / "associations.csv")
    pairs["pmid"] = [str(20000 + k // 2) for k in range(len(pairs))]
    pairs.to_csv(root / "associations.csv", index=False)
    folds, out = tmp_path / "folds", tmp_path / "grade"
    code, err = run_cli(monkeypatch, capsys, "folds", "export", "--split", "time", "--cutoffs", "0.5,0.7",
                        "--data", str(root), "--out", str(folds))
    assert code == 0, err
    run_documented_scorer(folds, tmp_path / "scores", monkeypatch)
    code, err = run_cli(monkeypatch, capsys, "evaluate", "--folds", str(folds), "--predictions",
                        str(tmp_path / "scores"), "--data", str(root), "--out", str(out), "--name", "degrees")
    assert code == 0, err
    body = json.loads((out / "metrics.json").read_text())
    assert body["label"] == "degrees" and body["split"] == "time" and len(body["folds"]) == 2
    assert body["protocol"] == {"split": "time", "cutoffs": [0.5, 0.7], "seed": 0}
    assert sorted(body["paired_differences"]) == ["popularity", "popularity-studies"]
    assert body["paired_differences"]["popularity"]["ap"]["mean"] == 0.0
    # a bad prediction through the command line: one line, exit code 2, no output folder
    (tmp_path / "scores" / "r00_f00" / "scores.csv").write_text("drug,mirna,score\ncisplatin,hsa-mir-21,x\n")
    code, err = run_cli(monkeypatch, capsys, "evaluate", "--folds", str(folds), "--predictions",
                        str(tmp_path / "scores"), "--data", str(root), "--out", str(tmp_path / "bad"))
    assert code == 2 and err.startswith("error: ") and "row 2" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


# --- every bad prediction is one clear error, and nothing is written ------------------------------------------

def _edit_csv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    edit(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(path, index=False)


def _first(folds: Path, name: str, row: int = 0) -> tuple[str, str]:
    table = pd.read_csv(folds / "r00_f00" / name, keep_default_na=False)
    return str(table.drug.iloc[row]), str(table.mirna.iloc[row])


def _set_score(value: str, row: int = 3) -> Callable[[Path, Path], None]:
    def edit(folds: Path, scores: Path) -> None:
        _edit_csv(scores / "r00_f00" / "scores.csv", lambda t: t.assign(score=t.score.where(t.index != row, value)))
    return edit


def _add_row(source: str) -> Callable[[Path, Path], None]:
    def edit(folds: Path, scores: Path) -> None:
        drug, mirna = _first(folds, source)
        _edit_csv(scores / "r00_f00" / "scores.csv",
                  lambda t: pd.concat([t, pd.DataFrame({"drug": [drug], "mirna": [mirna], "score": ["1"]})]))
    return edit


def _rewrite_manifest(folds: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((folds / "manifest.json").read_text())
    change(manifest)
    (folds / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _rehash(folds: Path, name: str) -> None:
    """Edit the manifest to the file's new hash (a careful hand-edit), so the consistency checks must catch it."""
    import hashlib

    from ammgc.evaluation.open_benchmark import folds_digest

    def change(manifest: dict) -> None:
        manifest["folds"][0]["files"][name] = hashlib.sha256((folds / "r00_f00" / name).read_bytes()).hexdigest()
        manifest["folds_sha256"] = folds_digest(manifest["files"], manifest["folds"])
    _rewrite_manifest(folds, change)


def _train_pair_in_test(folds: Path, scores: Path) -> None:
    drug, mirna = _first(folds, "test.csv")
    _edit_csv(folds / "r00_f00" / "train.csv",
              lambda t: pd.concat([t, pd.DataFrame({"drug": [drug], "mirna": [mirna]})]))
    _rehash(folds, "train.csv")


def _test_pair_not_a_candidate(folds: Path, scores: Path) -> None:
    drug, mirna = _first(folds, "test.csv")
    _edit_csv(folds / "r00_f00" / "candidates.csv", lambda t: t[(t.drug != drug) | (t.mirna != mirna)])
    _rehash(folds, "candidates.csv")


BAD = {
    "missing pairs": (lambda f, s: _edit_csv(s / "r00_f00" / "scores.csv", lambda t: t.iloc[3:]),
                      r"scores\.csv: 3 of the \d+ candidate pairs of fold r00_f00 have no score \(\(drug\d+, "),
    "training pair": (_add_row("train.csv"), r"scores\.csv, row \d+: \(.*\) is no candidate of fold r00_f00: a "
                                            r"training pair of the fold \(train\.csv\)"),
    "duplicate": (_add_row("candidates.csv"), r"scores\.csv, row \d+: duplicate pair \(.*\), first at row \d+"),
    "nan": (_set_score("nan"), r"scores\.csv, row 5: the score 'nan' of \(.*\) is NaN"),
    "inf": (_set_score("-inf"), r"scores\.csv, row 5: the score '-inf' of \(.*\) is infinite"),
    "not a number": (_set_score("high"), r"scores\.csv, row 5: the score 'high' of \(.*\) is not a number"),
    "empty score": (_set_score(""), r"scores\.csv, row 5: the score '' of \(.*\) is empty"),
    "unknown name": (lambda f, s: _edit_csv(s / "r00_f00" / "scores.csv",
                                            lambda t: t.assign(drug=t.drug.where(t.index != 2, "drug99"))),
                     r"scores\.csv, row 4: unknown drug 'drug99' \(did you mean 'drug9'\?\)"),
    "header": (lambda f, s: _edit_csv(s / "r00_f00" / "scores.csv", lambda t: t.rename(columns={"score": "p"})),
               r"scores\.csv, row 1: the header is drug,mirna,p; expected drug,mirna,score"),
    "fold missing": (lambda f, s: shutil.rmtree(s / "r00_f01"), r"1 of the 3 exported folds has no scores\.csv: "
                                                              r"r00_f01"),
    "fold extra": (lambda f, s: shutil.copytree(s / "r00_f00", s / "r00_f09"), r"r00_f09/ is no fold of the export"),
    "train pair also in test": (_train_pair_in_test, r"train\.csv, row \d+: the training pair \(.*\) is also a "
                                                     r"held-out pair \(test\.csv\)"),
    "candidates without a test pair": (_test_pair_not_a_candidate, r"test\.csv, row 2: the held-out pair \(.*\) is "
                                                                   r"not among the candidates"),
    "file edited, manifest not": (lambda f, s: _edit_csv(f / "r00_f00" / "candidates.csv", lambda t: t.iloc[::-1]),
                                  r"candidates\.csv: the file's sha256 is not the one manifest\.json records"),
    "manifest edited": (lambda f, s: _rewrite_manifest(f, lambda m: m["folds"][0]["files"].update(
        {"test.csv": "0" * 64})), r"manifest\.json: the file hashes it records do not give its folds_sha256"),
}


@pytest.fixture(scope="module")
def graded_once(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("graded")
    export_folds(dataset, PairSplit(n_folds=3, repeats=1), root / "folds")
    popularity_scores(dataset, PairSplit(n_folds=3, repeats=1), root / "folds", root / "scores")
    return root / "folds", root / "scores"


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_prediction_is_one_clear_error_and_writes_nothing(case: str, graded_once: tuple[Path, Path],
                                                                dataset: Dataset, tmp_path: Path) -> None:
    folds, scores = (shutil.copytree(p, tmp_path / p.name) for p in graded_once)
    edit, message = BAD[case]
    edit(folds, scores)
    with pytest.raises(DataError, match=message):
        evaluate_predictions(folds, scores, tmp_path / "out", dataset=dataset)
    assert not (tmp_path / "out").exists()


def test_a_shared_name_must_be_written_as_its_identifier(dataset: Dataset, tmp_path: Path) -> None:
    names = dataset.drug_names
    names[0] = names[3] = "Rituximab"
    twins = replace(dataset, drugs=dataset.drugs.assign(name=names))
    export_folds(twins, TimeSplit(), tmp_path / "folds")
    popularity_scores(twins, TimeSplit(), tmp_path / "folds", tmp_path / "scores")
    evaluate_predictions(tmp_path / "folds", tmp_path / "scores", dataset=twins)  # ids: graded
    _edit_csv(tmp_path / "scores" / "r00_f00" / "scores.csv", lambda t: t.assign(drug=t.drug.str.split("#").str[0]))
    with pytest.raises(DataError, match=r"unknown drug 'Rituximab': 2 drugs of the dataset share that name; name "
                                        r"them as drugs\.csv's drug column does \(Rituximab#1, Rituximab#2\)"):
        evaluate_predictions(tmp_path / "folds", tmp_path / "scores", tmp_path / "out", dataset=twins)
    assert not (tmp_path / "out").exists()


def test_the_dataset_given_must_be_the_one_the_folds_came_from(graded_once: tuple[Path, Path], dataset: Dataset,
                                                               tmp_path: Path) -> None:
    folds, scores = graded_once
    other = make_planted_dataset(seed=1)
    with pytest.raises(DataError, match=r"manifest\.json: the folds were exported from the dataset 'planted' "
                                        r"\(sha256 [0-9a-f]{16}\.\.\.\), the dataset given .* has sha256"):
        evaluate_predictions(folds, scores, tmp_path / "out", dataset=other)
    with pytest.raises(AmmgcError, match="lies in an input of the grade"):
        evaluate_predictions(folds, scores, scores / "graded", dataset=dataset)
    assert not (tmp_path / "out").exists() and not (scores / "graded").exists()
