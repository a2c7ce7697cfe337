"""Metrics of SPEC section 3, as pure functions of (y_true, y_score).

``aupr`` integrates sklearn's precision-recall curve with the trapezoid rule, as the reference
code does; ``ap`` is sklearn's average precision (step interpolation, slightly smaller). The
threshold metrics (f1, acc, rec, spec, prec) are taken at the threshold that maximises F1 among
999 quantile thresholds of the sorted unique scores, the rule of the reference implementation.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

METRICS = ("auc", "aupr", "ap", "f1", "acc", "rec", "spec", "prec")


def quantile_thresholds(y_score: np.ndarray, n: int = 1000) -> np.ndarray:
    """The reference's candidate thresholds: unique sorted scores at quantiles 1/n .. (n-1)/n."""
    unique = np.unique(y_score)
    return unique[(len(unique) * np.arange(1, n) / n).astype(np.int64)]


def threshold_metrics(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """F1, accuracy, recall, specificity and precision at the max-F1 quantile threshold (score >= t)."""
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    thresholds = quantile_thresholds(y_score)
    order = np.sort(y_score)
    pos_sorted = np.sort(y_score[y_true])
    n, n_pos = len(y_score), int(y_true.sum())
    predicted_pos = n - np.searchsorted(order, thresholds, side="left")
    tp = n_pos - np.searchsorted(pos_sorted, thresholds, side="left")
    fp = predicted_pos - tp
    fn = n_pos - tp
    tn = n - n_pos - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    best = int(np.argmax(f1))
    tp_b, fp_b, fn_b, tn_b = (float(x[best]) for x in (tp, fp, fn, tn))
    return {
        "f1": float(f1[best]),
        "acc": (tp_b + tn_b) / n,
        "rec": tp_b / (tp_b + fn_b) if tp_b + fn_b else 0.0,
        "spec": tn_b / (tn_b + fp_b) if tn_b + fp_b else 0.0,
        "prec": tp_b / (tp_b + fp_b) if tp_b + fp_b else 0.0,
        "threshold": float(thresholds[best]),
    }


def aupr_trapezoid(y_true: np.ndarray, y_score: np.ndarray) -> float:
    precision, recall, _ = precision_recall_curve(y_true, y_score)
    return float(auc(recall, precision))


def evaluate_scores(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """All metrics of the protocol for one test set."""
    y_true = np.asarray(y_true).astype(np.int8)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must be equal 1-D shapes")
    if not np.isfinite(y_score).all():
        raise ValueError("scores contain NaN or infinity")
    result = {
        "auc": float(roc_auc_score(y_true, y_score)),
        "aupr": aupr_trapezoid(y_true, y_score),
        "ap": float(average_precision_score(y_true, y_score)),
    }
    result.update(threshold_metrics(y_true, y_score))
    return result
