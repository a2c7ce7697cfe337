import numpy as np
import pytest
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

from ammgc.evaluation.metrics import (
    average_precision_and_auc,
    evaluate_scores,
    quantile_thresholds,
    threshold_metrics,
)


def test_perfect_ranking() -> None:
    y = np.array([1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.05])
    m = evaluate_scores(y, s)
    assert m["auc"] == pytest.approx(1.0)
    assert m["aupr"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(1.0)
    assert m["acc"] == pytest.approx(1.0)
    assert m["rec"] == pytest.approx(1.0) and m["spec"] == pytest.approx(1.0) and m["prec"] == pytest.approx(1.0)


def test_hand_computed_threshold_metrics() -> None:
    # scores >= 0.6 are called positive at the best threshold: TP=2, FP=1, FN=1, TN=4
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1])
    m = threshold_metrics(y, s)
    # candidate thresholds are unique scores at quantiles; check the best F1 among all cut-offs
    best = max(2 * tp / (2 * tp + fp + fn) for tp, fp, fn in [(1, 0, 2), (2, 0, 1), (2, 1, 1), (3, 1, 0)])
    assert m["f1"] == pytest.approx(best)
    assert m["rec"] == pytest.approx(1.0)
    assert m["prec"] == pytest.approx(0.75)
    assert m["acc"] == pytest.approx(7 / 8)
    assert m["spec"] == pytest.approx(4 / 5)


def test_against_sklearn_and_brute_force() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(5000) < 0.05).astype(int)
    s = rng.random(5000) + 0.5 * y
    m = evaluate_scores(y, s)
    assert m["auc"] == pytest.approx(roc_auc_score(y, s))
    precision, recall, _ = precision_recall_curve(y, s)
    assert m["aupr"] == pytest.approx(auc(recall, precision))
    assert m["ap"] == pytest.approx(average_precision_score(y, s))
    f1s = []
    for t in quantile_thresholds(s):
        pred = s >= t
        tp = np.sum(pred & (y == 1))
        f1s.append(2 * tp / (pred.sum() + y.sum()))
    assert m["f1"] == pytest.approx(max(f1s))


def test_quantile_thresholds_follow_reference_rule() -> None:
    s = np.arange(2000, dtype=float)
    t = quantile_thresholds(s)
    assert len(t) == 999
    assert t[0] == 2.0 and t[-1] == 1998.0


def test_rejects_nan_scores() -> None:
    with pytest.raises(ValueError, match="NaN"):
        evaluate_scores(np.array([1, 0]), np.array([np.nan, 0.1]))


def test_top_k_counts_tied_pairs_by_their_expected_share() -> None:
    from ammgc.evaluation.metrics import expected_hits_at

    y = np.array([1, 0, 1, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.5, 0.5, 0.5, 0.5])
    assert expected_hits_at(y, s, 1) == 1.0
    assert expected_hits_at(y, s, 2) == 1.0
    # the third slot goes to one of four tied pairs, two of them positive: half a hit expected
    assert expected_hits_at(y, s, 3) == 1.5
    assert expected_hits_at(y, s, 6) == 3.0
    assert expected_hits_at(y, s, 100) == 3.0
    # any order of the ties gives the same number
    perm = np.array([5, 4, 3, 2, 1, 0])
    assert expected_hits_at(y[perm], s[perm], 3) == 1.5


def test_ranking_metrics_by_hand() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ammgc.evaluation.metrics import evaluate_scores

    y = np.array([1, 0, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.1, 0.8, 0.3, 0.7, 0.2, 0.05])
    drugs = np.array([0, 0, 0, 1, 1, 1, 2])   # drug 2 has no held-out pair: not averaged
    m = evaluate_scores(y, s, drugs=drugs)
    assert m["prec_at_20"] == 2 / 7 and m["hits_at_20"] == 2.0
    assert m["drug_ap"] == pytest.approx((1.0 + average_precision_score([1, 0, 0], [0.3, 0.7, 0.2])) / 2)
    assert m["drug_auc"] == pytest.approx((1.0 + roc_auc_score([1, 0, 0], [0.3, 0.7, 0.2])) / 2)
    assert m["drug_recall_at_20"] == 1.0
    assert "drug_ap" not in evaluate_scores(y, s)


def test_per_drug_ap_and_auc_are_sklearns_with_ties() -> None:
    """The direct per-ranking AP and AUC (the per-drug metrics' inner loop) equal sklearn's, tied scores too."""
    rng = np.random.default_rng(0)
    for case in range(300):
        n = int(rng.integers(2, 400))
        truth = (rng.random(n) < rng.uniform(0.02, 0.5)).astype(np.int8)
        truth[0] = 1
        score = rng.normal(size=n)
        if case % 2:
            score = np.round(score, int(rng.integers(0, 3)))  # many ties
        ap, area = average_precision_and_auc(truth, score)
        assert ap == pytest.approx(average_precision_score(truth, score), abs=1e-12)
        if truth.sum() < n:
            assert area == pytest.approx(roc_auc_score(truth, score), abs=1e-12)
        else:
            assert np.isnan(area)
