"""Scores people can trust: a probability and an expected precision for every predicted pair.

A model's raw score is a ranking key (a logit). To say how likely a pair is to be confirmed, the same
configuration is evaluated honestly before the final model is trained: K folds of the study-grouped
split (pairs of held-out publications; the random pair split where a dataset has no publications),
each fold's model ranking its candidate pairs (held-out positives and every unobserved pair). Two
things are fitted on those out-of-fold rankings:

- ``probability``: the chance that a pair at a given position was a held-out positive. The position
  is the pair's *top fraction* among the candidates (rank / number of candidates), which means the
  same thing for every fold's model and for the final model; raw logits do not (the activity prior
  grows with the data). Two maps are measured, isotonic regression on the top fraction and Platt
  scaling (logistic regression on its logarithm), each fitted on K-1 folds and scored on the held-out
  fold (Brier score and expected calibration error); the better Brier score wins and is refitted on
  every fold.
- ``expected_precision``: the share of held-out positives among the pairs ranked at that position or
  better, averaged over folds (made non-increasing by isotonic regression).

Both read "when this configuration ranked pairs of publications it had never seen"; they are not the
chance that any study will ever test the pair.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ammgc.errors import AmmgcError

log = logging.getLogger(__name__)

#: Top fractions on which the maps are stored (log-spaced: the top of the ranking is where users look).
#: The columns ``annotate`` adds to a ranking, after ``score``.
CALIBRATED_COLUMNS = ("percentile", "probability", "expected_precision")
GRID = np.concatenate([[0.0], np.geomspace(1e-5, 1.0, 400)])
CALIBRATION_FOLDS = 5
#: the array fields of ``Calibration``, stored as tensors ``calibration.<name>``
_ARRAYS = ("probability_knots", "precision_knots", "reliability")
ECE_BINS = 15


@dataclass(frozen=True)
class Calibration:
    """Maps a pair's top fraction among the candidates to a probability and an expected precision."""

    method: str
    protocol: str
    folds: int
    probability_knots: np.ndarray  # probability at each GRID top fraction
    precision_knots: np.ndarray  # expected precision at each GRID top fraction
    prevalence: float  # share of positives among the out-of-fold candidates
    # rows: mean held-out probability, observed share of positives, pairs; one column per equal-mass bin
    reliability: np.ndarray
    measured: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> held-out brier / ece

    def probability(self, top_fraction: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(top_fraction, dtype=np.float64), GRID, self.probability_knots)

    def expected_precision(self, top_fraction: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(top_fraction, dtype=np.float64), GRID, self.precision_knots)

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "protocol": self.protocol, "folds": self.folds,
                "prevalence": self.prevalence, "measured": self.measured}

    def tensors(self) -> dict[str, np.ndarray]:
        """The maps as a model file stores them (``describe`` holds the rest)."""
        return {f"calibration.{name}": np.ascontiguousarray(getattr(self, name), dtype=np.float64)
                for name in _ARRAYS}

    @classmethod
    def from_state(cls, record: dict[str, Any] | None, tensors: dict[str, np.ndarray], path: object
                   ) -> Calibration | None:
        """The calibration a model file stores (None where it has none), or a ``ModelFileError`` naming the field."""
        from ammgc.errors import ModelFileError

        if record is None:
            return None
        try:
            calibration = cls(method=str(record["method"]), protocol=str(record["protocol"]),
                              folds=int(record["folds"]), prevalence=float(record["prevalence"]),
                              measured={k: {m: float(v) for m, v in d.items()} for k, d in record["measured"].items()},
                              **{name: tensors[f"calibration.{name}"] for name in _ARRAYS})
        except KeyError as exc:
            raise ModelFileError(f"{path}: inconsistent model file: calibration {exc.args[0]!r} is missing") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{path}: inconsistent model file: calibration ({exc})") from None
        knots = (calibration.probability_knots, calibration.precision_knots)
        if any(k.shape != GRID.shape or not np.isfinite(k).all() or (k < 0).any() or (k > 1).any() for k in knots):
            raise ModelFileError(f"{path}: inconsistent model file: calibration maps must be finite probabilities on "
                                 f"the stored grid")
        return calibration


def positions(ordered: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``scores`` fall among the sorted candidate scores ``ordered``: how many candidates score lower,
    and the top fraction rank / n (1/n for the best), ties sharing their mean rank."""
    below = np.searchsorted(ordered, scores, side="left")
    tied = np.searchsorted(ordered, scores, side="right") - below
    return below, (len(ordered) - below - (tied - 1) / 2) / len(ordered)


def top_fractions(scores: np.ndarray) -> np.ndarray:
    """Each score's position among all of them as rank / n (1/n for the best); ties share their mean rank."""
    scores = np.asarray(scores, dtype=np.float64)
    return positions(np.sort(scores), scores)[1]


def _isotonic(fractions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(fractions, labels)
    return model.predict(np.maximum(GRID, fractions.min()))


def _platt(fractions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6)
    model.fit(np.log(fractions)[:, None], labels)
    return model.predict_proba(np.log(np.maximum(GRID, fractions.min()))[:, None])[:, 1]


MAPS = {"isotonic": _isotonic, "platt": _platt}


def reliability_bins(probability: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Equal-mass bins of the predicted probability: rows mean predicted, observed share, pairs."""
    order = np.argsort(probability, kind="stable")
    chunks = [c for c in np.array_split(order, bins) if len(c)]
    return np.array([[probability[c].mean() for c in chunks], [labels[c].mean() for c in chunks],
                     [len(c) for c in chunks]], dtype=np.float64)


def expected_calibration_error(probability: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |predicted - observed| over equal-mass bins of the predicted probability, weighted by bin size."""
    table = reliability_bins(probability, labels, bins)
    return float(np.sum(table[2] * np.abs(table[0] - table[1])) / table[2].sum())


def precision_curve(fractions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of positives among the pairs at each GRID top fraction or better, for one fold's ranking."""
    order = np.argsort(fractions, kind="stable")
    hits = np.cumsum(labels[order])
    ranks = np.arange(1, len(order) + 1)
    return np.interp(np.maximum(GRID, fractions.min()), fractions[order], hits / ranks)


def fit_calibration(folds: list[tuple[np.ndarray, np.ndarray]], *, protocol: str) -> Calibration:
    """Calibration from out-of-fold rankings: one (scores, labels) pair of arrays per fold."""
    from sklearn.isotonic import IsotonicRegression

    if len(folds) < 2:
        raise AmmgcError("calibration needs at least two folds of out-of-fold predictions")
    data = [(top_fractions(s), np.asarray(y, dtype=np.float64)) for s, y in folds]
    if any(y.sum() == 0 or y.sum() == len(y) for _, y in data):
        raise AmmgcError("calibration needs held-out positives and negatives in every fold")
    measured: dict[str, dict[str, float]] = {}
    held_out: dict[str, np.ndarray] = {}
    for name, fit in MAPS.items():
        briers, eces, probabilities = [], [], []
        for k, (fraction, labels) in enumerate(data):
            train_f = np.concatenate([f for j, (f, _) in enumerate(data) if j != k])
            train_y = np.concatenate([y for j, (_, y) in enumerate(data) if j != k])
            probability = np.interp(fraction, GRID, fit(train_f, train_y))
            briers.append(float(np.mean((probability - labels) ** 2)))
            eces.append(expected_calibration_error(probability, labels))
            probabilities.append(probability)
        measured[name] = {"brier": float(np.mean(briers)), "ece": float(np.mean(eces))}
        held_out[name] = np.concatenate(probabilities)
    best = min(measured, key=lambda name: measured[name]["brier"])
    all_f = np.concatenate([f for f, _ in data])
    all_y = np.concatenate([y for _, y in data])
    curves = np.mean([precision_curve(f, y) for f, y in data], axis=0)
    precision = IsotonicRegression(increasing=False).fit(GRID, curves).predict(GRID)
    return Calibration(best, protocol, len(data), MAPS[best](all_f, all_y), precision, float(all_y.mean()),
                       reliability_bins(held_out[best], all_y), measured)


def out_of_fold(method: Any, dataset: Any, *, seed: int = 0, n_folds: int = CALIBRATION_FOLDS,
                progress: bool = False) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """(scores, labels) of each fold of the honest protocol the dataset allows, and that protocol's name:
    ``method`` (a copy of it, each fold) fitted on each fold's training matrix ranks the fold's candidates."""
    from tqdm.auto import tqdm

    from ammgc import methods
    from ammgc.evaluation.runner import fold_seed
    from ammgc.evaluation.splits import PairSplit, StudySplit, study_groups

    protocol = "study" if dataset.publications is not None else "pair"
    if protocol == "study" and int(study_groups(dataset.publications).max()) + 1 < n_folds:
        protocol = "pair"
    if protocol == "pair":
        log.info("no publications (or fewer than the folds), so calibration uses random pair folds (optimistic "
                 "for new studies)")
    if dataset.n_associations < n_folds:
        raise AmmgcError(f"{dataset.n_associations} associations are too few for {n_folds} calibration folds")
    cv = StudySplit(n_folds, 1, seed) if protocol == "study" else PairSplit(n_folds, 1, seed)
    out = []
    for fold in tqdm(list(cv.split(dataset)), desc="calibration", unit="fold", disable=not progress):
        model = methods.fit_method(methods.clone(method), dataset, fold.train, seed=fold_seed(seed, 0, fold.fold),
                                   where=f"calibration fold {fold.fold}")
        scores = methods.scores_of(model, dataset, f"calibration fold {fold.fold}")
        out.append((scores[fold.candidates[:, 0], fold.candidates[:, 1]], fold.labels))
    return out, protocol


def calibrate(method: Any, dataset: Any, *, seed: int = 0, n_folds: int = CALIBRATION_FOLDS,
              progress: bool = False) -> Calibration:
    """The calibration of ``method`` on ``dataset``: its out-of-fold rankings (``out_of_fold``) mapped to
    probabilities and expected precisions (``fit_calibration``)."""
    oof, protocol = out_of_fold(method, dataset, seed=seed, n_folds=n_folds, progress=progress)
    return fit_calibration(oof, protocol=protocol)


def annotate(table: Any, candidate_scores: np.ndarray, calibration: Calibration) -> Any:
    """A ranking table with ``percentile``, ``probability`` and ``expected_precision`` after ``score``.

    Positions are taken among every candidate pair (all unobserved pairs), whatever subset the table
    shows; ties share their mean position, as in ``top_fractions``.
    """
    ordered = np.sort(np.asarray(candidate_scores, dtype=np.float64))
    below, fraction = positions(ordered, table["score"].to_numpy(dtype=np.float64))
    out = table.copy()
    out["percentile"] = 100.0 * below / len(ordered)
    out["probability"] = calibration.probability(fraction)
    out["expected_precision"] = calibration.expected_precision(fraction)
    return out
