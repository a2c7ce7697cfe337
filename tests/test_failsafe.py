"""Fail safe on every path: each case of the adversarial campaign, reproduced and now a clear error (exit 2,
one line, no traceback) with the inputs untouched and no output written."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_model, run_cli

from ammgc.cli import main
from ammgc.data.dataset import Dataset
from ammgc.models.ammgc import AMMGC

FAST = {"epochs_gcn": 3, "epochs_attention": 3, "hidden": (8, 8), "mirna_views": ("expression",)}


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``ammgc ARGS`` through the real error boundary (``run_cli``), and never a traceback."""
    code, err = run_cli(monkeypatch, capsys, *args)
    assert "Traceback" not in err
    return code, err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import write_tiny_own_dataset

    from ammgc.data import load_dataset

    root = tmp_path_factory.mktemp("model")
    data = write_tiny_own_dataset(root / "data")
    path = root / "m.ammgc"
    fit_model(load_dataset(data), FAST, seed=0).save(path)
    return path


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


# --- 3. outputs never destroy inputs; 6. bad output locations -----------------------------------------

@pytest.mark.parametrize("case", ["out_is_model", "html_is_model", "out_is_directory", "out_is_symlink",
                                  "out_is_device", "out_equals_html"])
def test_predict_refuses_unsafe_outputs_before_any_work(model_file: Path, tmp_path: Path, case: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "t.csv"
    target.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    out = {"out_is_model": ["--out", str(model_file)], "html_is_model": ["--html", str(model_file)],
           "out_is_directory": ["--out", str(tmp_path)], "out_is_symlink": ["--out", str(link)],
           "out_is_device": ["--out", os.devnull],
           "out_equals_html": ["--out", str(tmp_path / "a"), "--html", str(tmp_path / "a")]}[case]
    before = snapshot(model_file, target)
    code, err = run(monkeypatch, capsys, "predict", "--model", str(model_file), *out)
    assert code == 2, err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert snapshot(model_file, target) == before and link.is_symlink()
    assert not (tmp_path / "a").exists()


def test_predict_out_dash_writes_the_csv_alone_to_standard_output(model_file: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(monkeypatch, capsys, "predict", "--model", str(model_file), "--top", "7", "--out", "t.csv")[0] == 0
    monkeypatch.setattr(sys, "argv", ["ammgc", "predict", "--model", str(model_file), "--top", "7", "--out", "-"])
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None)
    printed = capsys.readouterr()
    assert printed.out == (tmp_path / "t.csv").read_text(encoding="utf-8")  # the CSV and nothing else
    assert "wrote 7 rows to standard output" in printed.err and "not a probability" in printed.err
    # no file named "-" and no sidecar for standard output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.json"]


@pytest.mark.parametrize(("option", "path", "message"), [
    ("--html", "-", "--html -: only --out writes to standard output (the CSV); give a file name"),
    ("--save-model", "-", "--save-model -: only --out writes to standard output (the CSV); give a file name"),
    ("--out", "/dev/stdout", "--out /dev/stdout is not a file to replace; for standard output give --out -")])
def test_only_the_csv_goes_to_standard_output_and_only_as_dash(model_file: Path, option: str, path: str,
                                                                message: str, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, "predict", "--model", str(model_file), option, path)
    assert code == 2 and f"error: {message}" in err


def test_predict_refuses_to_overwrite_its_own_data(model_file: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    before = snapshot(data / "associations.csv")
    code, err = run(monkeypatch, capsys, "predict", "--data", str(data), *sum(
        (["-o", f"{k}={json.dumps(v)}"] for k, v in FAST.items()), []), "--no-calibrate",
        "--out", str(data / "associations.csv"))
    assert code == 2 and "is an input of this run" in err
    assert snapshot(data / "associations.csv") == before


def test_evaluate_ranking_refuses_to_overwrite_its_pairs(model_file: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pairs = out / "pairs.csv"
    pairs.write_text("drug,mirna\ncisplatin,hsa-mir-21\n")
    before = snapshot(pairs)
    code, err = run(monkeypatch, capsys, "evaluate-ranking", "--pairs", str(pairs), "--model", str(model_file),
                    "--out", str(out))
    assert code == 2 and "is an input of this run" in err
    assert snapshot(pairs) == before


def test_train_refuses_a_directory_as_model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, "train", "--out", str(tmp_path))
    assert code == 2 and "is a directory" in err


# --- 12. model files that are not files; 14. forged content; 16. clear version errors -------------------

def test_a_fifo_or_device_is_not_read_as_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        code, err = run(monkeypatch, capsys, "predict", "--model", str(path))
        assert code == 2 and "not a regular file" in err


def _rewrite(model_file: Path, tmp_path: Path, change: object) -> Path:
    """A copy of the model with its metadata or tensors changed and a valid checksum (forged, not corrupt)."""
    from ammgc.models.modelfile import read_payload, write_payload

    metadata, tensors = read_payload(model_file)
    change(metadata, tensors)  # type: ignore[operator]
    path = tmp_path / "forged.ammgc"
    write_payload(path, metadata, tensors)
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda m, t: m.update(drugs="not a table"), "drugs must be a JSON object, not string"),
    (lambda m, t: m.update(config=[1, 2]), "config must be a JSON object, not array"),
    (lambda m, t: m.update(config={**m["config"], "wings": 2}), "configuration has options this ammgc does not know"),
    (lambda m, t: t.update(scores=np.full_like(t["scores"], np.nan)), "'scores' holds NaN or infinite"),
    (lambda m, t: t.update(embeddings=np.full_like(t["embeddings"], np.inf)), "'embeddings' holds NaN"),
    # the campaign's cases: each was a KeyError, or a refusal that did not name the file
    (lambda m, t: m["drugs"].pop("name"), "drugs.name is missing"),
    (lambda m, t: m["views"]["expression"].pop("width"), "views['expression'].width is missing"),
    (lambda m, t: t.pop("mirna_mean.expression"), "tensor 'mirna_mean.expression' is missing"),
    (lambda m, t: t["associations"].__setitem__((0, 0), 2), "tensor 'associations' must hold only 0 and 1"),
    (lambda m, t: t.update(scores=np.full_like(t["scores"], 5.0)), "tensor 'scores' is not what the stored network"),
    # a field of the file named like an option is not given the option's flag
    (lambda m, t: m["modals"][0].pop("drug_views"), "model file: modals[0].drug_views is missing"),
])
def test_forged_model_content_is_refused(model_file: Path, tmp_path: Path, change: object, message: str,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    forged = _rewrite(model_file, tmp_path, change)
    code, err = run(monkeypatch, capsys, "predict", "--model", str(forged))
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert message in errors[0] and str(forged) in errors[0]


def test_a_string_format_version_is_named_as_such(model_file: Path, tmp_path: Path) -> None:
    from ammgc.errors import ModelFileError
    from ammgc.models.modelfile import read_payload, write_payload

    metadata, tensors = read_payload(model_file)
    path = tmp_path / "v.ammgc"
    write_payload(path, metadata, tensors, format_version="1")
    with pytest.raises(ModelFileError, match="format version '1'; this ammgc reads version 1"):
        AMMGC.load(path)


# --- 2. resume never reuses folds of other inputs; 6. corrupt fold stores --------------------------------

CV_FAST = ["--folds", "2", "--repeats", "1", "--jobs", "1", "-o", "epochs_gcn=2", "-o", "epochs_attention=2",
           "-o", "hidden=[4,4]", "-o", 'mirna_views=["expression"]']


def test_an_edited_smiles_or_sequence_is_never_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    out = tmp_path / "cv"
    assert run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))[0] == 0
    smiles = (data / "drugs.csv").read_text().splitlines()
    name, _ = smiles[1].split(",", 1)
    (data / "drugs.csv").write_text("\n".join([smiles[0], f"{name},CCOC(=O)c1ccccc1", *smiles[2:]]) + "\n")
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))
    assert code == 2 and "holds folds of a different run configuration" in err and "resuming" not in err


@pytest.mark.parametrize("content", ["[]", "null", '"a string"', "\xff\xfe"])
def test_a_fold_file_that_is_not_a_record_is_redone(tmp_path: Path, content: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    out = tmp_path / "cv"
    assert run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))[0] == 0
    (out / "folds" / "r00_f00.json").write_bytes(content.encode("latin-1"))
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))
    assert code == 0 and "resuming: 1 of 2 folds" in err
    assert isinstance(json.loads((out / "folds" / "r00_f00.json").read_text()), dict)


def fold_corruptions(record: dict) -> list[tuple[str, dict, str]]:
    """Damaged copies of a stored fold record, generated over its fields: (case, record, the problem named)."""
    from ammgc.evaluation.metrics import METRICS

    cases = [(f"without {m}", {k: v for k, v in record.items() if k != m}, f"'{m}' is missing")
             for m in (*METRICS, "repeat", "fold", "threshold", "seconds", "curves")]
    for metric in ("auc", "drug_ap"):
        cases += [(f"{metric} as text", {**record, metric: "0.9"}, f"'{metric}' is '0.9', not a number"),
                  (f"{metric} true", {**record, metric: True}, f"'{metric}' is True, not a number"),
                  (f"{metric} infinite", {**record, metric: float("inf")}, f"'{metric}' is inf, not a finite")]
    for metric in ("aupr", "prec_at_20"):
        cases += [(f"{metric} NaN", {**record, metric: float("nan")}, f"'{metric}' is nan, not a finite"),
                  (f"{metric} 1.5", {**record, metric: 1.5}, f"'{metric}' is 1.5, outside \\[0, 1\\]"),
                  (f"{metric} negative", {**record, metric: -0.1}, f"'{metric}' is -0.1, outside")]
    return [*cases,
            ("hits above k", {**record, "hits_at_20": 21.0}, "'hits_at_20' is 21.0, outside \\[0, 20\\]"),
            ("seconds negative", {**record, "seconds": -1.0}, "'seconds' is -1.0, outside"),
            ("threshold NaN", {**record, "threshold": float("nan")}, "'threshold' is nan"),
            ("prevalence above 1", {**record, "prevalence": 2.0}, "'prevalence' is 2.0, outside"),
            ("another fold's number", {**record, "fold": 0}, "its repeat 0 and fold 0 are not those of its file name"),
            ("another repeat's number", {**record, "repeat": 3}, "its repeat 3 and fold 1 are not those"),
            ("fold as text", {**record, "fold": "1"}, "'fold' is '1', not a whole number"),
            ("fold fractional", {**record, "fold": 1.0}, "'fold' is 1.0, not a whole number"),
            ("an unknown field", {**record, "note": "x"}, "unexpected field 'note'"),
            ("curves as a list", {**record, "curves": []}, "'curves' is not a grid"),
            ("a curve cut short", {**record, "curves": {**record["curves"], "tpr": record["curves"]["tpr"][:10]}},
             "curve 'tpr' does not have 201 points"),
            ("a curve with NaN", {**record, "curves": {**record["curves"], "precision": [
                float("nan"), *record["curves"]["precision"][1:]]}},
             "curve 'precision' has a point that is not a number in \\[0, 1\\]")]


def test_a_damaged_fold_record_is_computed_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each damage of a finished run's fold record (generated over its fields): the rerun warns, naming the file
    and the problem, and computes that fold again, ending with the clean run's numbers and a valid file."""
    import logging
    import shutil

    from conftest import make_planted_dataset

    from ammgc.evaluation.runner import cross_validate
    from ammgc.evaluation.splits import PairSplit

    planted = make_planted_dataset(n_drugs=6, n_mirnas=9)

    def numbers(folds: list[dict]) -> list[dict]:
        return [{k: v for k, v in f.items() if k != "seconds"} for f in folds]

    clean_dir = tmp_path / "clean"
    clean = cross_validate("popularity", planted, PairSplit(2, 1, 4), store=clean_dir)
    stored = json.loads((clean_dir / "folds" / "r00_f01.json").read_text())
    fingerprint = stored.pop("fingerprint")
    cases = fold_corruptions(stored)
    assert len(cases) > 40
    for case, damaged, problem in cases:
        out = tmp_path / "run"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(clean_dir, out)
        path = out / "folds" / "r00_f01.json"
        path.write_text(json.dumps({**damaged, "fingerprint": fingerprint}))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ammgc"):
            rerun = cross_validate("popularity", planted, PairSplit(2, 1, 4), store=out)
        assert numbers(rerun.folds) == numbers(clean.folds), case
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and re.search(f"^{re.escape(str(path))}: {problem}.*; this fold is computed "
                                                f"again$", warnings[0]), (case, warnings)
        again = json.loads(path.read_text())
        assert again.pop("fingerprint") == fingerprint and numbers([again]) == numbers([stored]), case


def test_a_fold_record_without_its_metrics_is_computed_again_on_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """The campaign's case: a finished cv run whose fold record kept its fingerprint, repeat and fold but lost
    its metrics; the rerun used to die with KeyError: 'auc' in the summary."""
    from conftest import write_tiny_own_dataset

    from ammgc.evaluation.metrics import METRICS

    data = write_tiny_own_dataset(tmp_path / "data")
    out = tmp_path / "cv"
    assert run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))[0] == 0
    first = json.loads((out / "metrics.json").read_text())
    path = out / "folds" / "r00_f01.json"
    path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k not in METRICS}))
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(out))
    assert code == 0 and "resuming: 1 of 2 folds" in err
    assert f"warning: {path}: 'auc' is missing; this fold is computed again" in err
    again = json.loads((out / "metrics.json").read_text())
    assert [{k: v for k, v in f.items() if k != "seconds"} for f in again["folds"]] == \
        [{k: v for k, v in f.items() if k != "seconds"} for f in first["folds"]]


def test_folds_as_a_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    (tmp_path / "cv").mkdir()
    (tmp_path / "cv" / "folds").write_text("not a folder")
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV_FAST, "--out", str(tmp_path / "cv"))
    assert code == 2 and "is a file, where this run keeps its finished folds" in err


# --- 9. SMILES with whitespace ---------------------------------------------------------------------------

@pytest.mark.parametrize("smiles", ["c1ccccc1 CCCCCCCC", "c1ccccc1\tCCO", "CC\nO"])
def test_smiles_with_whitespace_is_an_error_not_a_truncated_molecule(smiles: str, tmp_path: Path) -> None:
    from ammgc.data import load_dataset
    from ammgc.errors import DataError
    from ammgc.features.drug import parse_smiles

    with pytest.raises(DataError, match="contains whitespace"):
        parse_smiles(smiles, "x")
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    lines = (data / "drugs.csv").read_text().splitlines()
    name = lines[1].split(",", 1)[0]
    quoted = smiles.replace('"', '""')
    (data / "drugs.csv").write_text("\n".join([lines[0], f'{name},"{quoted}"', *lines[2:]]) + "\n")
    with pytest.raises(DataError, match=f"drugs.csv, column smiles: SMILES of drug '{name}' contains whitespace"):
        load_dataset(data)


# --- 10. own-data files under near-miss names --------------------------------------------------------------

@pytest.mark.parametrize(("rename", "table"), [("drugs.csv", "drugs.CSV"), ("drugs.csv", "drug.csv"),
                                               ("mirnas.csv", "miRNAs.csv"), ("mirnas.csv", "mirna.csv"),
                                               ("associations.csv", "Associations.csv")])
def test_a_table_under_a_near_miss_name_is_never_dropped_silently(tmp_path: Path, rename: str, table: str) -> None:
    from conftest import write_tiny_own_dataset

    from ammgc.data import load_dataset
    from ammgc.errors import DataError

    data = write_tiny_own_dataset(tmp_path / "data")
    (data / rename).rename(data / table)
    with pytest.raises(DataError, match=f"{table}: looks like the .* table but is not named"):
        load_dataset(data)


def test_a_near_miss_beside_the_real_table_is_a_warning(tmp_path: Path) -> None:
    from conftest import write_tiny_own_dataset

    from ammgc.data.byo import read_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    (data / "drug.csv").write_text("name\nx\n")
    assert any("drug.csv: ignored; the drugs table is drugs.csv" in w for w in read_own_dataset(data).warnings)


# --- 11. numbers in a predictions file are plain ASCII ---------------------------------------------------

@pytest.mark.parametrize(("column", "cell"), [("drug_index", "0_0"), ("drug_index", "٠"), ("mirna_index", "1_0"),
                                              ("score", "1_0"), ("score", "٣.5")])
def test_predictions_with_odd_numbers_are_refused(tmp_path: Path, column: str, cell: str) -> None:
    from conftest import write_tiny_own_dataset

    from ammgc.data import load_dataset
    from ammgc.errors import DataError
    from ammgc.experiments.external import read_predictions

    dataset = load_dataset(write_tiny_own_dataset(tmp_path / "data"))
    row = {"drug_index": "0", "mirna_index": "1", "score": "0.5", column: cell}
    path = tmp_path / "predictions.csv"
    path.write_text("drug_index,mirna_index,score\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"row 2, column {column}"):
        read_predictions(path, dataset)


# --- 13. a damaged miRBase folder ------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["corrupt_gz", "directory"])
def test_a_damaged_aliases_file_is_one_clear_error(tmp_path: Path, damage: str) -> None:
    import shutil

    from conftest import MIRBASE_SUBSET

    from ammgc.errors import DataError
    from ammgc.features.mirna import load_catalogue

    folder = tmp_path / "mirbase"
    shutil.copytree(MIRBASE_SUBSET, folder)
    if damage == "corrupt_gz":
        (folder / "aliases.txt.gz").write_bytes(b"\x1f\x8b not really gzip")
    else:
        (folder / "aliases.txt").mkdir()
    with pytest.raises(DataError, match="aliases.txt"):
        load_catalogue(folder)


# --- 5. a full disk ----------------------------------------------------------------------------------------

def test_a_full_disk_while_writing_is_one_line(model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    import ammgc.io

    def full(path: object, *args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(ammgc.io, "atomic_open", full)
    code, err = run(monkeypatch, capsys, "predict", "--model", str(model_file), "--out", str(tmp_path / "r.csv"))
    assert code == 2 and "error: No space left on device" in err and not (tmp_path / "r.csv").exists()


def test_the_view_cache_is_best_effort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from conftest import MIRBASE_SUBSET

    import ammgc.features.mirna as mirna

    def full(path: object, *args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setenv("AMMGC_HOME", str(tmp_path))
    monkeypatch.setattr(mirna, "atomic_open", full)
    built = mirna.build_sequence_view(["hsa-mir-21"], mirna.load_catalogue(MIRBASE_SUBSET), progress=False)
    assert built.matrix.shape[0] == 1 and built.matrix.max() > 0.9


# --- 8. small or degenerate data ---------------------------------------------------------------------------

@pytest.mark.parametrize(("matrix", "kwargs", "message"), [
    (np.eye(4, 5), {"n_folds": 16}, "4 association\\(s\\) cannot fill 16 folds; lower n_folds to at most 4"),
    (np.eye(4, 5), {"n_folds": 10, "split": "drug"}, "4 drugs cannot fill 10 folds"),
    (np.eye(4, 5), {"n_folds": 6, "split": "mirna"}, "5 miRNAs cannot fill 6 folds"),
    (np.zeros((4, 5)), {"n_folds": 2}, "no known association"),
    (np.ones((4, 5)), {"n_folds": 2}, "every drug-miRNA pair of the dataset is a known association"),
])
def test_degenerate_data_is_refused_before_training(matrix: np.ndarray, kwargs: dict, message: str) -> None:
    from ammgc.errors import AmmgcError
    from ammgc.evaluation.splits import splitter

    p, q = matrix.shape
    dataset = Dataset(matrix.astype(np.uint8), pd.DataFrame({"name": [f"d{i}" for i in range(p)]}),
                      pd.DataFrame({"name": [f"m{j}" for j in range(q)]}))
    kwargs = {"repeats": 1, **kwargs}
    with pytest.raises(AmmgcError, match=message):
        list(splitter(kwargs.pop("split", "pair"), **kwargs).split(dataset))


# --- 1. Ctrl-C while and after drug fingerprints are computed --------------------------------------------------

def run_python(script: str) -> str:
    """A fresh interpreter running ``script`` with Python's default Ctrl-C handler (the process and its signal
    are the point, so a subprocess); its standard output."""
    import signal
    import subprocess

    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert "Traceback" not in child.stderr, child.stderr
    return child.stdout.strip()


def test_ctrl_c_while_and_after_fingerprints_are_computed_interrupts() -> None:
    """RDKit's substructure search puts its own C-level SIGINT handler in place on every call; a Ctrl-C that
    comes once it has run must still stop the computation (here the fingerprint sends it from between two
    molecules to the process that asked for the views), and one after it must stop the run."""
    script = ("import os, signal\n"
              "import numpy as np\n"
              "import skfp.fingerprints\n"
              "from ammgc.features.drug import drug_views_from_smiles\n"
              "MAIN = os.getpid()\n"
              "class CtrlC(skfp.fingerprints.PubChemFingerprint):\n"
              "    def transform(self, X, copy=False):\n"
              "        first = super().transform(X[:1])\n"
              "        os.kill(MAIN, signal.SIGINT)\n"
              "        return np.vstack([first, super().transform(X[1:])])\n"
              "plain = skfp.fingerprints.PubChemFingerprint\n"
              "skfp.fingerprints.PubChemFingerprint = CtrlC\n"
              "try:\n"
              "    drug_views_from_smiles(['CCO', 'c1ccccc1O', 'CCN'], ['a', 'b', 'c'])\n"
              "    print('finished')\n"
              "except KeyboardInterrupt:\n"
              "    print('interrupted')\n"
              "try:\n"
              "    print('a child process is left', os.waitpid(-1, os.WNOHANG))\n"
              "except ChildProcessError:\n"
              "    print('no child process left')\n"
              "skfp.fingerprints.PubChemFingerprint = plain\n"
              "drug_views_from_smiles(['CCO', 'c1ccccc1O'], ['a', 'b'])\n"
              "try:\n"
              "    os.kill(MAIN, signal.SIGINT)\n"
              "    print('went on')\n"
              "except KeyboardInterrupt:\n"
              "    print('interrupted')\n")
    assert run_python(script).splitlines() == ["interrupted", "no child process left", "interrupted"]


def test_fingerprints_computed_apart_are_the_same_bits() -> None:
    from rdkit import Chem
    from skfp.fingerprints import PubChemFingerprint

    from ammgc.features.drug import pubchem_bits

    smiles = ["N.N.Cl[Pt]Cl", "C1=C(C(=O)NC(=O)N1)F", "CCC(=C(C1=CC=CC=C1)C2=CC=C(C=C2)OCCN(C)C)C3=CC=CC=C3"]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    np.testing.assert_array_equal(pubchem_bits(mols), PubChemFingerprint(n_jobs=1).transform(mols))
    assert pubchem_bits([]).shape == (0, 881)


# --- 15. feature rows that row normalisation would ruin ------------------------------------------------------

def test_feature_rows_are_normalised_by_magnitude_and_overflow_is_an_error(tmp_path: Path) -> None:
    from conftest import write_tiny_own_dataset

    from ammgc.data import load_dataset
    from ammgc.data.byo import read_own_dataset
    from ammgc.errors import DataError
    from ammgc.models.graph import row_normalize

    # a row 1, -1, 0 sums to 0: it keeps its signs and scale instead of becoming zeros or exploding
    np.testing.assert_allclose(row_normalize(np.array([[1.0, -1.0, 0.0], [1e-13, -1e-13 + 1e-20, 0.0]])),
                               [[0.5, -0.5, 0.0], [0.5, -0.5, 0.0]], atol=1e-6)
    data = write_tiny_own_dataset(tmp_path / "data")
    table = data / "features" / "mirna" / "expression.csv"
    lines = table.read_text().splitlines()
    name = lines[1].split(",")[0]
    table.write_text("\n".join([lines[0], f"{name},-1,1,0,0,0", *lines[2:]]) + "\n")
    assert any("row 2, column 2: negative feature value -1" in w for w in read_own_dataset(data).warnings)
    table.write_text("\n".join([lines[0], f"{name},1e308,1e308,0,0,0", *lines[2:]]) + "\n")
    with pytest.raises(DataError, match="expression.csv, row 2: the row's values are too large to sum"):
        load_dataset(data)


# --- 16. one spelling of an accented name ------------------------------------------------------------------

def test_nfc_and_nfd_spellings_of_a_name_are_the_same_name(tmp_path: Path) -> None:
    import unicodedata

    from ammgc.data import load_dataset
    from ammgc.prediction.ranking import resolve_names

    nfc, nfd = unicodedata.normalize("NFC", "caféine"), unicodedata.normalize("NFD", "caféine")
    assert nfc != nfd
    assert resolve_names([nfd], ["aspirin", nfc], what="drug") == [1]
    root = tmp_path / "own"
    root.mkdir()
    (root / "drugs.csv").write_text(f"name\n{nfc}\naspirin\n", encoding="utf-8")
    (root / "associations.csv").write_text(f"drug,mirna\n{nfd},hsa-mir-21\naspirin,hsa-mir-155\n", encoding="utf-8")
    assert load_dataset(root).drug_names == [nfc, "aspirin"]


# --- generated: any option value on cv ends in a result or one clear error ---------------------------------

OPTION_NAMES = ["epochs_gcn", "epochs_attention", "hidden", "dropout", "input_dropout", "p_neg", "lr", "fusion",
                "degree_prior", "prior_counts", "prior_in_training", "drug_views", "mirna_views", "modals",
                "node_features", "device", "last_activation", "no_such_option"]
NASTY = ["null", "-5", "0", "1", "2", "1e3", "NaN", "Infinity", "-1e300", "0.5", '"bogus"', '"fingerprint"', "[]",
         "[3]", "[0]", "[2, 2]", "[-1, 4]", '["expression"]', '["nope"]', "true", '"cpu"', '"cuda:x"', "{}", '"1"']


def test_generated_cv_options_end_in_a_result_or_one_clear_error(tmp_path_factory: pytest.TempPathFactory) -> None:
    from conftest import write_tiny_own_dataset
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    data = write_tiny_own_dataset(tmp_path_factory.mktemp("gen") / "data")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    counter = iter(range(10**6))

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.lists(st.tuples(st.sampled_from(OPTION_NAMES), st.sampled_from(NASTY)), min_size=1, max_size=2))
    def check(options: list[tuple[str, str]]) -> None:
        out = tmp_path_factory.getbasetemp() / f"gen-out-{next(counter)}"
        args = ["cv", "--data", str(data), "--folds", "2", "--repeats", "1", "--jobs", "1", "--out", str(out),
                "-o", "epochs_gcn=2", "-o", "epochs_attention=2", "-o", "hidden=[4,4]",
                "-o", 'mirna_views=["expression"]']
        for name, value in options:
            args += ["-o", f"{name}={value}"]
        monkeypatch = pytest.MonkeyPatch()
        try:
            monkeypatch.setattr(sys, "argv", ["ammgc", *args])
            import contextlib
            import io

            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    main()
                    code = 0
                except SystemExit as exc:
                    code = int(exc.code or 0)
        finally:
            monkeypatch.undo()
        text = err.getvalue()
        assert code in (0, 2), (options, text[-2000:])
        assert "Traceback" not in text, options
        assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before
        if code == 2:
            assert not (out / "metrics.json").exists()
            assert len([line for line in text.splitlines() if line.startswith("error:")]) == 1, text[-2000:]

    check()


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_a_seed_out_of_range_is_refused_on_the_command_line(seed: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, "cv", "--seed", seed, "--out", str(tmp_path / "out"))
    assert code == 2 and "--seed" in err and not (tmp_path / "out").exists()
