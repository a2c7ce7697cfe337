"""Metrics of SPEC section 3, as pure functions of (y_true, y_score).

``aupr`` integrates sklearn's precision-recall curve with the trapezoid rule, as the reference
code does; ``ap`` is sklearn's average precision (step interpolation, slightly smaller). The
threshold metrics (f1, acc, rec, spec, prec) are taken at the threshold that maximises F1 among
999 quantile thresholds of the sorted unique scores, the rule of the reference implementation.

The ranking metrics are what a lab acts on: ``prec_at_K`` / ``hits_at_K`` read the top K pairs of the
whole ranking; ``drug_ap`` / ``drug_auc`` average each drug's own AP / AUC over the drugs with a
held-out pair; ``drug_recall_at_20`` averages the share of each such drug's held-out pairs in its top
20. Where tied scores straddle the cut at K, the tied pairs count by their expected share (the mean
over every order of the ties), so no method gains from how ties happen to be ordered.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

#: The paper's metrics plus AP (computed from scores alone).
PAPER_METRICS = ("auc", "aupr", "ap", "f1", "acc", "rec", "spec", "prec")
TOP_K = (20, 100)
DRUG_TOP_K = 20
#: Metrics of a ranking as a lab reads it (need each test pair's drug).
RANKING_METRICS = ("drug_ap", "drug_auc", *(f"{m}_at_{k}" for k in TOP_K for m in ("prec", "hits")),
                   f"drug_recall_at_{DRUG_TOP_K}")
METRICS = (*PAPER_METRICS, *RANKING_METRICS)


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


def expected_hits_at(y_true: np.ndarray, y_score: np.ndarray, k: int) -> float:
    """Positives among the top ``k`` scores, ties at the cut counted by their expected share."""
    k = min(k, len(y_score))
    if k == 0:
        return 0.0
    cut = np.partition(y_score, len(y_score) - k)[len(y_score) - k]
    above, tied = y_score > cut, y_score == cut
    n_tied = int(tied.sum())
    return float(y_true[above].sum() + (k - above.sum()) * y_true[tied].sum() / n_tied)


def average_precision_and_auc(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, float]:
    """sklearn's ``average_precision_score`` and ``roc_auc_score`` of one ranking (NaN AUC without negatives),
    computed directly: one sort instead of sklearn's input checks, which cost milliseconds a call and are
    paid once per drug of every fold. Tied scores form one threshold in both, as in sklearn."""
    order = np.argsort(-y_score, kind="mergesort")
    score, truth = y_score[order], y_true[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # the end of each run of tied scores
    tps = np.cumsum(truth)[last]
    fps = last + 1 - tps
    n_pos, n_neg = tps[-1], fps[-1]
    precision = tps / (tps + fps)
    ap = float(np.sum(np.diff(np.r_[0.0, tps / n_pos]) * precision))
    if n_neg == 0:
        return ap, float("nan")
    tpr, fpr = np.r_[0.0, tps / n_pos], np.r_[0.0, fps / n_neg]
    return ap, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # the trapezoid rule


def ranking_metrics(y_true: np.ndarray, y_score: np.ndarray, drugs: np.ndarray) -> dict[str, float]:
    """Top-K precision and hits of the whole ranking, and per-drug AP, AUC and recall@20."""
    out: dict[str, float] = {}
    for k in TOP_K:
        hits = expected_hits_at(y_true, y_score, k)
        out[f"hits_at_{k}"] = hits
        out[f"prec_at_{k}"] = hits / min(k, len(y_score))
    order = np.argsort(drugs, kind="stable")
    bounds = np.flatnonzero(np.diff(drugs[order])) + 1
    aps, aucs, recalls = [], [], []
    for rows in np.split(order, bounds):
        truth, score = y_true[rows], y_score[rows]
        n_pos = int(truth.sum())
        if n_pos == 0:
            continue
        ap, auc_ = average_precision_and_auc(truth, score)
        aps.append(ap)
        recalls.append(expected_hits_at(truth, score, DRUG_TOP_K) / n_pos)
        if n_pos < len(truth):
            aucs.append(auc_)
    out["drug_ap"] = float(np.mean(aps)) if aps else float("nan")
    out["drug_auc"] = float(np.mean(aucs)) if aucs else float("nan")
    out[f"drug_recall_at_{DRUG_TOP_K}"] = float(np.mean(recalls)) if recalls else float("nan")
    return out


def evaluate_scores(y_true: np.ndarray, y_score: np.ndarray, drugs: np.ndarray | None = None) -> dict[str, float]:
    """All metrics of the protocol for one test set; the ranking metrics too when ``drugs`` (each test
    pair's drug index) is given."""
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
    if drugs is not None:
        drugs = np.asarray(drugs)
        if drugs.shape != y_true.shape:
            raise ValueError(f"drugs {drugs.shape} must match y_true {y_true.shape}")
        result.update(ranking_metrics(y_true, y_score, drugs))
    return result
