"""Calibrated probability, expected precision and the reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_model, make_planted_dataset, with_synthetic_publications
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ammgc.errors import AmmgcError
from ammgc.evaluation.calibration import (
    GRID,
    METHOD,
    MIN_HELD_OUT_POSITIVES,
    PAIR_CAVEAT,
    Calibration,
    annotate,
    fit_calibration,
    top_fractions,
)
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
    assert calibration.method == METHOD and set(calibration.measured) == {METHOD}
    assert calibration.measured[METHOD]["auc"] > 0.9 and calibration.caveat is None
    assert (calibration.positives, calibration.candidates) == (int(sum(y.sum() for _, y in synthetic_folds())),
                                                               4 * 3000)
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
    assert list(out.columns) == ["score", "percentile", "probability", "probability_low", "probability_high",
                                 "expected_precision"]
    np.testing.assert_allclose(out["percentile"], [99.0, 50.0, 0.0])
    np.testing.assert_allclose(out["probability"], calibration.probability(np.array([0.01, 0.5, 1.0])))
    assert out["expected_precision"].is_monotonic_decreasing
    assert (out["probability_low"] <= out["probability"]).all()
    assert (out["probability"] <= out["probability_high"]).all()
    assert (out["probability"] <= out["expected_precision"]).all()


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
    assert list(ranking.columns[-6:]) == ["score", "percentile", "probability", "probability_low",
                                          "probability_high", "expected_precision"]
    assert ranking["expected_precision"].is_monotonic_decreasing
    assert ranking["percentile"].is_monotonic_decreasing and ranking["percentile"].iloc[0] > 99.0
    assert ((ranking["probability"] > 0) & (ranking["probability"] < 1)).all()
    assert (ranking["probability"] <= ranking["expected_precision"]).all()
    assert ranking["probability"].is_monotonic_decreasing
    np.testing.assert_array_equal(loaded.calibration_.low_knots, model.calibration_.low_knots)
    assert (loaded.calibration_.positives, loaded.calibration_.candidates) == (model.calibration_.positives,
                                                                             model.calibration_.candidates)


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
    assert model.calibration_.caveat == PAIR_CAVEAT and "optimistic" in PAIR_CAVEAT


@st.composite
def out_of_fold_rankings(draw: st.DrawFn) -> list[tuple[np.ndarray, np.ndarray]]:
    """2-5 folds of a ranker better than chance: any size, prevalence and strength, with ties in the scores."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_folds, n = draw(st.integers(2, 5)), draw(st.integers(60, 1500))
    prevalence, signal = draw(st.floats(0.02, 0.5)), draw(st.floats(0.3, 6.0))
    decimals = draw(st.sampled_from([1, 3, 8]))
    folds = []
    for _ in range(n_folds):
        labels = (rng.random(n) < prevalence).astype(np.int8)
        labels[:2] = [1, 0]
        folds.append((np.round(rng.normal(size=n) + signal * labels, decimals), labels))
    return folds


@settings(max_examples=60, deadline=None)
@given(out_of_fold_rankings())
def test_probability_is_bounded_by_the_evidence(folds: list[tuple[np.ndarray, np.ndarray]]) -> None:
    try:
        calibration = fit_calibration(folds, protocol="study")
    except AmmgcError as exc:   # a few hits or a chance-level draw: uncalibrated, with the reason
        assert "positives" in str(exc) or "no better than chance" in str(exc)
        return
    probability = calibration.probability(GRID)
    low, high = calibration.interval(GRID)
    assert (probability <= calibration.expected_precision(GRID)).all()
    assert ((probability > 0) & (probability < 1)).all()
    assert (np.diff(probability) <= 0).all()   # GRID runs down the ranking: the probability never rises
    assert ((low <= probability) & (probability <= high) & (low > 0) & (high < 1)).all()
    # the same between the knots, where rankings are read
    fractions = np.sort(np.random.default_rng(0).random(500))
    between = calibration.probability(fractions)
    assert (between <= calibration.expected_precision(fractions)).all() and (np.diff(between) <= 0).all()


def test_pure_folds_never_give_a_probability_of_0_or_1() -> None:
    """Every positive above every negative (what pair folds gave: isotonic wrote exactly 1.0 and 0.0)."""
    folds = [(np.r_[np.linspace(10, 9, 40), np.linspace(0, -1, 960)], np.r_[np.ones(40), np.zeros(960)])
             for _ in range(5)]
    calibration = fit_calibration(folds, protocol="pair")
    probability = calibration.probability(GRID)
    assert ((probability > 0) & (probability < 1)).all() and probability[0] > 0.95 and probability[-1] < 1e-3
    assert calibration.caveat == PAIR_CAVEAT


def test_too_few_held_out_positives_leave_the_model_uncalibrated() -> None:
    rng = np.random.default_rng(0)
    folds = []
    for k in range(5):
        labels = np.zeros(200, dtype=np.int8)
        labels[:3 if k else MIN_HELD_OUT_POSITIVES - 13] = 1  # 17 + 4 x 3 = 29 positives in all
        folds.append((rng.normal(size=200) + 3 * labels, labels))
    with pytest.raises(AmmgcError, match=f"hold 29 positives; a probability by rank needs at least "
                                         f"{MIN_HELD_OUT_POSITIVES}"):
        fit_calibration(folds, protocol="study")
    folds[1][1][3] = 1
    assert fit_calibration(folds, protocol="study").positives == MIN_HELD_OUT_POSITIVES


def test_inverted_rankings_are_not_calibrated() -> None:
    """Held-out positives at the bottom of the ranking: no map that falls as the score rises is written."""
    folds = [(-scores, labels) for scores, labels in synthetic_folds()]
    with pytest.raises(AmmgcError, match="no better than chance"):
        fit_calibration(folds, protocol="study")


def test_six_drug_dataset_is_left_uncalibrated_with_the_reason() -> None:
    from conftest import TINY_PAIRS

    dataset = make_planted_dataset(n_drugs=6, n_mirnas=8, n_groups=2, density=0.3)
    assert dataset.n_associations < MIN_HELD_OUT_POSITIVES and len(TINY_PAIRS) < MIN_HELD_OUT_POSITIVES
    model = fit_model(dataset, {"epochs_gcn": 2, "epochs_attention": 2, "hidden": (4, 4)}, seed=0,
                        drug_features="files", calibrate=True, progress=False)
    assert model.calibration_ is None
    assert f"not calibrated: the 5 held-out folds hold {dataset.n_associations} positives" in model.info_["notes"][-1]


def test_a_calibration_from_an_older_file_still_loads_and_is_capped(tmp_path: Path) -> None:
    """Files written before the interval existed have no low/high knots and no counts: they load, their
    probability is held under the expected precision, and the caveat says to retrain."""
    from ammgc.models.ammgc import AMMGC

    dataset = with_synthetic_publications(make_planted_dataset(n_drugs=30, n_mirnas=48), n_publications=15)
    model = fit_model(dataset, {"epochs_gcn": 2, "epochs_attention": 2, "hidden": (4, 4)}, seed=0,
                        drug_features="files", calibrate=False, progress=False)
    old = Calibration("platt", "study", 5, np.linspace(0.99, 0.001, len(GRID)), np.linspace(0.8, 0.01, len(GRID)),
                      0.01, np.ones((3, 2)), {"platt": {"brier": 0.1, "ece": 0.01}})
    path = tmp_path / "old.ammgc"
    model.calibration_ = old
    model.save(path)
    loaded = AMMGC.load(path).calibration_
    assert loaded is not None and loaded.low_knots is None and loaded.interval(GRID) is None
    assert loaded.positives == 0 and "older ammgc" in loaded.caveat
    assert (loaded.probability(GRID) <= loaded.expected_precision(GRID)).all()
    table = annotate(pd.DataFrame({"score": [3.0, 2.0]}), np.arange(10, dtype=np.float64), loaded)
    assert "probability_low" not in table.columns and "probability" in table.columns
