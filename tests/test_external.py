"""`evaluate-ranking`: planted external pairs must score high under a good ranking and low under a reversed one."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_planted_dataset
from typer.testing import CliRunner

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.experiments.external import (
    classify_pairs,
    evaluate_ranking,
    rank_matrix,
    read_pairs,
    read_predictions,
    run_evaluate_ranking,
)
from ammgc.models.ammgc import AMMGC
from ammgc.prediction.ranking import rank_unobserved

N_HIDDEN = 12


@pytest.fixture
def held_out() -> tuple[Dataset, np.ndarray]:
    """The planted dataset with 12 associations removed: those are the 'newly reported' external pairs."""
    full = make_planted_dataset(seed=3)
    positives = full.positive_pairs()
    rng = np.random.default_rng(0)
    hidden = positives[rng.choice(len(positives), N_HIDDEN, replace=False)]
    train = full.associations.copy()
    train[hidden[:, 0], hidden[:, 1]] = 0
    return full.with_associations(train), hidden


def _good_scores(dataset: Dataset, hidden: np.ndarray) -> np.ndarray:
    scores = np.random.default_rng(1).random(dataset.associations.shape)
    scores[hidden[:, 0], hidden[:, 1]] += 10.0
    return scores


def _write_pairs(path: Path, dataset: Dataset, pairs: np.ndarray, *, by: str = "name") -> Path:
    if by == "name":
        table = pd.DataFrame({"drug": [dataset.drug_names[d] for d in pairs[:, 0]],
                              "mirna": [dataset.mirna_names[m] for m in pairs[:, 1]]})
    else:
        table = pd.DataFrame({"drug_index": pairs[:, 0], "mirna_index": pairs[:, 1]})
    table.to_csv(path, index=False)
    return path


def _write_predictions(path: Path, dataset: Dataset, scores: np.ndarray, top: int | None = None) -> Path:
    rank_unobserved(dataset, scores, top=top).to_csv(path, index=False)
    return path


def test_good_ranking_scores_high_and_reversed_low(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    pairs = classify_pairs(dataset, read_pairs(_write_pairs(tmp_path / "p.csv", dataset, hidden), dataset))
    good = evaluate_ranking(dataset, pairs, _good_scores(dataset, hidden), label="good").metrics
    bad = evaluate_ranking(dataset, pairs, -_good_scores(dataset, hidden), label="bad").metrics
    assert good["pairs"] == N_HIDDEN
    assert good["auc"] == pytest.approx(1.0) and good["ap"] == pytest.approx(1.0)
    assert good["hits@50"] == N_HIDDEN and good["median_rank"] <= N_HIDDEN
    assert bad["auc"] < 0.01 and bad["ap"] < 0.05
    assert bad["hits@50"] == 0 and bad["median_rank"] > good["unobserved_pairs"] - N_HIDDEN


def test_run_from_predictions_file_writes_reports(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    pairs = _write_pairs(tmp_path / "p.csv", dataset, hidden)
    good = _write_predictions(tmp_path / "good.csv", dataset, _good_scores(dataset, hidden))
    bad = _write_predictions(tmp_path / "bad.csv", dataset, -_good_scores(dataset, hidden))
    body = run_evaluate_ranking(pairs, dataset, predictions=good, out=tmp_path / "good")
    assert body["results"]["predictions"]["auc"] == pytest.approx(1.0)
    assert set(body["results"]) == {"predictions", "popularity"}
    worse = run_evaluate_ranking(pairs, dataset, predictions=bad, out=tmp_path / "bad")
    assert worse["results"]["predictions"]["auc"] < 0.01
    out = tmp_path / "good"
    assert json.loads((out / "evaluation.json").read_text())["counts"] == {"evaluated": N_HIDDEN}
    per_pair = pd.read_csv(out / "pairs.csv")
    assert list(per_pair.columns[:6]) == ["row", "drug_index", "drug", "mirna_index", "mirna", "status"]
    assert {"predictions_rank", "popularity_rank", "predictions_rank_within_drug"} <= set(per_pair.columns)
    assert per_pair["predictions_rank"].max() <= N_HIDDEN
    per_drug = pd.read_csv(out / "per_drug.csv")
    assert per_drug["pairs"].sum() == N_HIDDEN
    assert "| popularity |" in (out / "evaluation.md").read_text()


def test_ranks_match_the_predict_file_rank_column(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    scores = _good_scores(dataset, hidden)
    ranking = rank_unobserved(dataset, scores)
    overall, _ = rank_matrix(dataset, scores)
    np.testing.assert_array_equal(overall[ranking["drug_index"], ranking["mirna_index"]], ranking["rank"])


def test_ties_share_their_average_rank(planted) -> None:
    scores = np.zeros(planted.associations.shape)
    overall, within = rank_matrix(planted, scores)
    n = int((planted.associations == 0).sum())
    assert np.nanmin(overall) == np.nanmax(overall) == (n + 1) / 2
    assert np.isnan(overall[planted.associations == 1]).all()
    assert within[0, planted.associations[0] == 0][0] == ((planted.associations[0] == 0).sum() + 1) / 2


def test_top_n_predictions_file_ranks_unlisted_pairs_below(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    scores = _good_scores(dataset, hidden)
    scores[hidden[0, 0], hidden[0, 1]] = -20.0  # one planted pair falls out of the top 100
    path = _write_predictions(tmp_path / "top.csv", dataset, scores, top=100)
    matrix, listed = read_predictions(path, dataset)
    assert listed == 100
    overall, _ = rank_matrix(dataset, matrix)
    n = int((dataset.associations == 0).sum())
    assert overall[hidden[0, 0], hidden[0, 1]] == pytest.approx((100 + 1 + n) / 2)


def test_known_and_duplicate_pairs_reported_and_excluded(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    known = dataset.positive_pairs()[:2]
    pairs = np.vstack([hidden, known, hidden[:1]])
    resolved = classify_pairs(dataset, read_pairs(_write_pairs(tmp_path / "p.csv", dataset, pairs), dataset))
    assert resolved["status"].value_counts().to_dict() == {"evaluated": N_HIDDEN, "known": 2, "duplicate": 1}
    metrics = evaluate_ranking(dataset, resolved, _good_scores(dataset, hidden), label="good").metrics
    assert metrics["pairs"] == N_HIDDEN
    body = run_evaluate_ranking(tmp_path / "p.csv", dataset,
                                predictions=_write_predictions(tmp_path / "g.csv", dataset,
                                                               _good_scores(dataset, hidden)),
                                out=tmp_path / "o")
    assert body["counts"] == {"evaluated": N_HIDDEN, "known": 2, "duplicate": 1}
    assert "already in the training data" in (tmp_path / "o" / "evaluation.md").read_text()


def test_pairs_by_index_equal_pairs_by_name(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    by_name = read_pairs(_write_pairs(tmp_path / "n.csv", dataset, hidden), dataset)
    by_index = read_pairs(_write_pairs(tmp_path / "i.csv", dataset, hidden, by="index"), dataset)
    pd.testing.assert_frame_equal(by_name, by_index)


def test_shared_name_stands_for_every_entry(planted, tmp_path) -> None:
    drugs = planted.drugs.copy()
    drugs.loc[1, "name"] = "drug0"
    twin = Dataset(planted.associations, drugs, planted.mirnas, planted.views, name="twin")
    (tmp_path / "p.csv").write_text("drug,mirna\nDRUG0,hsa-mir-5\n")
    assert read_pairs(tmp_path / "p.csv", twin)[["drug_index", "mirna_index"]].values.tolist() == [[0, 5], [1, 5]]


@pytest.mark.parametrize(("text", "message"), [
    ("drug,mirna\ndrug0,hsa-mir-1\nnot-a-drug,hsa-mir-2\n", "row 3, column drug: unknown drug 'not-a-drug'"),
    ("drug,mirna\ndrug0,hsa-mir-999\n", "row 2, column mirna: unknown miRNA 'hsa-mir-999'"),
    ("drug_index,mirna_index\n0,1\n99,1\n", "row 3, column drug_index: drug index 99 is out of range"),
    ("drug_index,mirna_index\nx,1\n", "row 2, column drug_index: drug index 'x' is not an integer"),
    ("compound,mirna\ndrug0,hsa-mir-1\n", "needs a column 'drug'"),
    ("drug,mirna\n", "no pairs"),
    ("drug,mirna\n,hsa-mir-1\n", "row 2, column drug: empty drug"),
])
def test_bad_pairs_files_are_one_clear_error(planted, tmp_path, text, message) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        read_pairs(path, planted)
    assert str(path) in str(info.value)


def test_predictions_from_another_dataset_are_refused(planted, tmp_path) -> None:
    path = _write_predictions(tmp_path / "p.csv", planted, np.random.default_rng(0).random(planted.associations.shape))
    table = pd.read_csv(path)
    table.loc[3, "mirna"] = "hsa-mir-other"
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match="row 5, column mirna: .* another dataset"):
        read_predictions(path, planted)
    (tmp_path / "q.csv").write_text("drug_index,mirna_index\n0,1\n")
    with pytest.raises(DataError, match="missing column"):
        read_predictions(tmp_path / "q.csv", planted)


def test_every_pair_known_is_an_error(planted, tmp_path) -> None:
    pairs = _write_pairs(tmp_path / "p.csv", planted, planted.positive_pairs()[:3])
    preds = _write_predictions(tmp_path / "r.csv", planted, np.ones(planted.associations.shape))
    with pytest.raises(AmmgcError, match="already a known association"):
        run_evaluate_ranking(pairs, planted, predictions=preds, out=tmp_path / "o")


def test_trained_model_recovers_planted_pairs(held_out, tmp_path) -> None:
    dataset, hidden = held_out
    pairs = _write_pairs(tmp_path / "p.csv", dataset, hidden)
    body = run_evaluate_ranking(pairs, dataset, method=AMMGC(epochs_gcn=30, epochs_attention=20, hidden=(16, 16)),
                                out=tmp_path / "o")
    assert body["results"]["ammgc"]["auc"] > 0.8
    assert body["views"]["drug"] == ["fingerprint", "smiles_code"]


def test_cli_reports_both_rankings(held_out, tmp_path, monkeypatch) -> None:
    from ammgc.cli import app

    dataset, hidden = held_out
    monkeypatch.setattr("ammgc.data.load_dataset", lambda data=None, **_: dataset)
    pairs = _write_pairs(tmp_path / "p.csv", dataset, hidden)
    preds = _write_predictions(tmp_path / "r.csv", dataset, _good_scores(dataset, hidden))
    result = CliRunner().invoke(app, ["evaluate-ranking", "--pairs", str(pairs), "--predictions", str(preds),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "predictions: AUC 1.0000" in result.output and "popularity: AUC" in result.output
    refused = CliRunner().invoke(app, ["evaluate-ranking", "--pairs", str(pairs), "--predictions", str(preds),
                                       "-o", "epochs_gcn=5"])
    assert refused.exit_code != 0
