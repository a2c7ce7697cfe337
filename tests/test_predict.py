"""`ammgc train` and `ammgc predict` from the command line, on an own dataset built from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_model, write_tiny_own_dataset
from typer.testing import CliRunner

from ammgc.cli import app
from ammgc.errors import AmmgcError, DataError, ModelFileError
from ammgc.evaluation.calibration import CALIBRATED_COLUMNS
from ammgc.models.ammgc import AMMGC
from ammgc.prediction.ranking import RANKING_COLUMNS

FAST = ["--epochs-gcn", "20", "--epochs-attention", "20", "-o", "hidden=[16,16]", "-o", 'mirna_views=["expression"]']
ERLOTINIB = "COCCOC1=C(C=C2C(=C1)C(=NC=N2)NC3=CC=CC(=C3)C#C)OCCOC"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_own_dataset(tmp_path_factory.mktemp("own") / "tiny")


@pytest.fixture(scope="module")
def model_file(own: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.ammgc"
    result = CliRunner().invoke(app, ["train", "--data", str(own), "--out", str(path), "--seed", "7", *FAST])
    assert result.exit_code == 0, result.output
    assert f"wrote {path}" in result.output
    return path


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output, result.exception


def test_predict_from_saved_model_gives_the_training_runs_scores(own: Path, model_file: Path,
                                                                 tmp_path: Path) -> None:
    code, output, _ = invoke("predict", "--model", str(model_file), "--top", "all", "--out", str(tmp_path / "a.csv"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "a.csv")
    # 15 associations are too few held-out positives to calibrate: the score alone, not a wrong probability
    assert tuple(table.columns) == RANKING_COLUMNS
    model = AMMGC.load(model_file)
    assert model.calibration_ is None
    assert any(n.startswith("not calibrated: the 5 held-out folds hold 15 positives") for n in model.info_["notes"])
    unobserved = int((model.train_ == 0).sum())
    assert len(table) == unobserved and f"wrote {unobserved} rows" in output
    np.testing.assert_array_equal(table["score"], model.predict_scores()[table["drug_index"], table["mirna_index"]])
    assert (model.train_[table["drug_index"], table["mirna_index"]] == 0).all()
    assert list(table["drug"]) == [model.dataset_.drugs["name"][i] for i in table["drug_index"]]
    # training here with the same data, seed and options gives the same file, byte for byte
    code, output, _ = invoke("predict", "--data", str(own), "--seed", "7", "--top", "all",
                             "--out", str(tmp_path / "b.csv"), *FAST)
    assert code == 0, output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_top_and_restrictions(model_file: Path, tmp_path: Path) -> None:
    code, output, _ = invoke("predict", "--model", str(model_file), "--top", "3", "--drug", "CISPLATIN",
                             "--drug", "tamoxifen", "--out", str(tmp_path / "t.csv"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table["rank"]) == [1, 2, 3] and set(table["drug"]) <= {"cisplatin", "tamoxifen"}
    assert "rank" in output and "score" in output  # the printed table
    _, _, error = invoke("predict", "--model", str(model_file), "--drug", "cisplatn")
    assert isinstance(error, AmmgcError) and "did you mean 'cisplatin'" in str(error)
    code, output, _ = invoke("predict", "--model", str(model_file), "--top", "none")
    assert code != 0 and "positive number or 'all'" in output


def test_new_drug_by_smiles_ranks_every_mirna(own: Path, model_file: Path, tmp_path: Path) -> None:
    code, output, _ = invoke("predict", "--model", str(model_file), "--new-drug", "erlotinib", "--smiles", ERLOTINIB,
                             "--top", "all", "--out", str(tmp_path / "n.csv"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "n.csv")
    model = AMMGC.load(model_file)
    assert len(table) == model.n_mirnas_ and set(table["drug"]) == {"erlotinib"}
    assert set(table["drug_index"]) == {model.n_drugs_} and sorted(table["mirna_index"]) == list(range(model.n_mirnas_))
    assert "computed from SMILES" in output
    listed = tmp_path / "new.csv"
    listed.write_text(f"name,smiles\nerlotinib,{ERLOTINIB}\nbrokenib,C1CC\n")
    _, _, error = invoke("predict", "--model", str(model_file), "--new-drugs", str(listed))
    assert isinstance(error, DataError) and error.row == 3 and "brokenib" in str(error)
    listed.write_text(f"name,smiles\nerlotinib,{ERLOTINIB}\n")
    code, output, _ = invoke("predict", "--model", str(model_file), "--new-drugs", str(listed), "--top", "all",
                             "--out", str(tmp_path / "f.csv"))
    assert code == 0, output
    assert (tmp_path / "f.csv").read_bytes() == (tmp_path / "n.csv").read_bytes()
    _, _, error = invoke("predict", "--model", str(model_file), "--new-drug", "a", "--new-drug", "b",
                         "--smiles", ERLOTINIB)
    assert isinstance(error, AmmgcError) and "2 --new-drug but 1 --smiles" in str(error)


def test_end_to_end_own_data_with_sequences(tmp_path: Path, mirbase_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """From scratch: real SMILES and miRBase sequences -> train -> predict for a new drug and a new miRNA."""
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    own = write_tiny_own_dataset(tmp_path / "own")
    model = tmp_path / "m.ammgc"
    code, output, _ = invoke("train", "--data", str(own), "--mirbase", str(mirbase_path), "--out", str(model),
                             "--epochs-gcn", "20", "--epochs-attention", "20", "-o", "hidden=[16,16]")
    assert code == 0, output
    assert "smiles_code_smiles x sequence" in output
    code, output, _ = invoke("predict", "--model", str(model), "--mirbase", str(mirbase_path), "--top", "all",
                             "--new-drug", "erlotinib", "--smiles", ERLOTINIB,
                             "--new-mirna", "hsa-mir-30b", "--sequence", "UGUAAACAUCCUACACUCAGCU",
                             "--out", str(tmp_path / "p.csv"))
    assert code == 0, output
    table = pd.read_csv(tmp_path / "p.csv")
    p, q = 7, 6
    involved = (table["drug_index"] == p) | (table["mirna_index"] == q)
    assert involved.all() and len(table) == (q + 1) + (p + 1) - 1
    assert "read as a mature miRNA" in output


def test_model_file_problems_are_one_line_errors(own: Path, model_file: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ammgc"
    broken.write_bytes(model_file.read_bytes()[:-100])
    _, _, error = invoke("predict", "--model", str(broken))
    assert isinstance(error, ModelFileError) and "truncated" in str(error)
    _, _, error = invoke("predict", "--model", str(model_file), "--epochs-gcn", "5")
    assert isinstance(error, AmmgcError) and "do not apply to a saved model" in str(error)
    other = write_tiny_own_dataset(tmp_path / "other")
    (other / "associations.csv").write_text("drug,mirna\ncisplatin,hsa-mir-21\n", encoding="utf-8")
    _, _, error = invoke("predict", "--model", str(model_file), "--data", str(other))
    assert isinstance(error, AmmgcError) and "differ from those the model was trained on" in str(error)


@pytest.mark.slow
def test_benchmark_top_all_is_deterministic(benchmark_path: Path, tmp_path: Path) -> None:
    args = ["predict", "--data", str(benchmark_path), "--top", "all",
            "--epochs-gcn", "2", "--epochs-attention", "2", "-o", "hidden=[16,16]", "--seed", "1"]
    for name in ("a.csv", "b.csv"):
        code, output, _ = invoke(*args, "--out", str(tmp_path / name))
        assert code == 0, output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    table = pd.read_csv(tmp_path / "a.csv")
    assert len(table) == 106 * 754 - 3_338 and tuple(table.columns) == (*RANKING_COLUMNS, *CALIBRATED_COLUMNS)
    assert table["drug_index"].between(0, 105).all() and table["mirna_index"].between(0, 753).all()


def test_experiments_and_predict_train_on_one_path(tiny_own_data: Path) -> None:
    """The case study, the attention study and evaluate-ranking train as `ammgc train` does: with the same
    drug features and seed they give exactly the scores `ammgc predict` ranks by."""
    import numpy as np

    from ammgc.data import load_dataset
    from ammgc.experiments.external import fit_on_all

    fast = {"epochs_gcn": 3, "epochs_attention": 3, "hidden": (8, 8)}
    dataset = load_dataset(tiny_own_data)
    for features in ("smiles", "files"):
        if features == "files":
            fast = {**fast, "drug_views": ("fingerprint_smiles",)}  # own data: no drug feature files
        [fitted], _, _ = fit_on_all(AMMGC(**fast, drug_features=features), dataset, seeds=[4])
        trained = fit_model(dataset, fast, seed=4, drug_features=features)
        np.testing.assert_array_equal(fitted.predict_scores(), trained.predict_scores())
