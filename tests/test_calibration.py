"""Calibrated probability, expected precision and the reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_model, make_planted_dataset, with_synthetic_publications
from typer.testing import CliRunner

from ammgc.errors import AmmgcError
from ammgc.evaluation.calibration import GRID, annotate, fit_calibration, top_fractions
from ammgc.reporting.figures import plot_reliability


def synthetic_folds(n_folds: int = 4, n: int = 3000, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Scores whose top holds most positives, as a decent ranker's would."""
    rng = np.random.default_rng(seed)
    folds = []
    for _ in range(n_folds):
        labels = (rng.random(n) < 0.03).astype(np.int8)
        scores = rng.normal(size=n) + 2.5 * labels
        folds.append((scores, labels))
    return folds


def test_top_fractions_rank_ties_by_their_mean_position() -> None:
    np.testing.assert_allclose(top_fractions(np.array([3.0, 1.0, 2.0, 2.0])), [0.25, 1.0, 0.625, 0.625])


def test_probability_and_expected_precision_fall_with_rank() -> None:
    calibration = fit_calibration(synthetic_folds(), protocol="study")
    assert calibration.method in ("isotonic", "platt") and set(calibration.measured) == {"isotonic", "platt"}
    assert calibration.method == min(calibration.measured, key=lambda m: calibration.measured[m]["brier"])
    for knots in (calibration.probability_knots, calibration.precision_knots):
        assert knots.shape == GRID.shape and ((knots >= 0) & (knots <= 1)).all()
        assert (np.diff(knots) <= 1e-12).all()
    # the top of a good ranking is far above the base rate, the bottom below it
    assert calibration.expected_precision(np.array([0.001]))[0] > 5 * calibration.prevalence
    assert calibration.probability(np.array([0.9]))[0] < calibration.prevalence
    assert 0.02 < calibration.prevalence < 0.04
    predicted, observed, counts = calibration.reliability
    assert counts.sum() == 4 * 3000 and np.corrcoef(predicted, observed)[0, 1] > 0.9


def test_calibration_needs_positives_in_every_fold() -> None:
    folds = synthetic_folds(2)
    folds[1] = (folds[1][0], np.zeros_like(folds[1][1]))
    with pytest.raises(AmmgcError, match="positives and negatives"):
        fit_calibration(folds, protocol="study")


def test_annotate_places_rows_among_all_candidates() -> None:
    calibration = fit_calibration(synthetic_folds(), protocol="study")
    candidates = np.arange(100, dtype=np.float64)
    table = pd.DataFrame({"score": [99.0, 50.0, 0.0]})
    out = annotate(table, candidates, calibration)
    np.testing.assert_allclose(out["percentile"], [99.0, 50.0, 0.0])
    np.testing.assert_allclose(out["probability"], calibration.probability(np.array([0.01, 0.5, 1.0])))
    assert out["expected_precision"].is_monotonic_decreasing


def test_trained_model_carries_its_calibration_through_the_file_and_predict(tmp_path: Path) -> None:
    from ammgc.cli import app
    from ammgc.models.ammgc import AMMGC

    dataset = with_synthetic_publications(make_planted_dataset(n_drugs=30, n_mirnas=48), n_publications=15)
    fast = {"epochs_gcn": 15, "epochs_attention": 15, "hidden": (16, 16)}
    model = fit_model(dataset, fast, seed=0, drug_features="files", calibrate=True, progress=False)
    assert model.calibration_ is not None and model.calibration_.protocol == "study"
    assert model.calibration_.folds == 5
    path = tmp_path / "model.ammgc"
    model.save(path)
    loaded = AMMGC.load(path)
    assert loaded.calibration_ is not None
    np.testing.assert_array_equal(loaded.calibration_.probability_knots, model.calibration_.probability_knots)
    assert loaded.calibration_.measured == model.calibration_.measured
    plot_reliability(loaded.calibration_, tmp_path / "reliability.png")
    assert (tmp_path / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "ranking.csv"
    result = CliRunner().invoke(app, ["predict", "--model", str(path), "--top", "all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(out)
    assert list(ranking.columns[-4:]) == ["score", "percentile", "probability", "expected_precision"]
    assert ranking["expected_precision"].is_monotonic_decreasing
    assert ranking["percentile"].is_monotonic_decreasing and ranking["percentile"].iloc[0] > 99.0
    assert ((ranking["probability"] >= 0) & (ranking["probability"] <= 1)).all()


def test_too_small_to_calibrate_still_trains_and_says_so() -> None:

    dataset = make_planted_dataset(n_drugs=4, n_mirnas=4, n_groups=2, density=0.0)   # 4 associations
    model = fit_model(dataset, {"epochs_gcn": 2, "epochs_attention": 2, "hidden": (4, 4)}, seed=0,
                        drug_features="files", calibrate=True, progress=False)
    assert model.calibration_ is None
    assert any(note.startswith("not calibrated:") for note in model.info_["notes"])


def test_few_publications_calibrate_on_pair_folds() -> None:

    dataset = with_synthetic_publications(make_planted_dataset(), n_publications=3)
    model = fit_model(dataset, {"epochs_gcn": 2, "epochs_attention": 2, "hidden": (4, 4)}, seed=0,
                        drug_features="files", calibrate=True, progress=False)
    assert model.calibration_ is not None and model.calibration_.protocol == "pair"
