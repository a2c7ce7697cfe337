"""Scores people can trust: a probability, its interval and an expected precision for every predicted pair.

A model's raw score is a ranking key (a logit). To say how likely a pair is to be confirmed, the same
configuration is evaluated honestly before the final model is trained: K folds of the study-grouped
split (pairs of held-out publications; the random pair split where a dataset has no publications),
each fold's model ranking its candidate pairs (held-out positives and every unobserved pair). The maps
are fitted on those out-of-fold rankings, by position: a pair's *top fraction* among the candidates
(rank / number of candidates) means the same thing for every fold's model and for the final model; raw
logits do not (the activity prior grows with the data).

- ``expected_precision``: the share of held-out positives among the pairs ranked at that position or
  better, averaged over folds (made non-increasing by isotonic regression).
- ``probability``: the chance that a pair at that position was a held-out positive. The held-out pairs
  of all folds are counted in the cells of ``GRID`` (hits and pairs per cell); neighbouring cells are
  pooled, from the top down, until the posterior mean of each pool's hit rate under the Jeffreys prior,
  (hits + 1/2) / (pairs + 1), falls strictly from pool to pool (pool-adjacent-violators on the
  posterior means). That rate is then capped by the expected precision at the same position: the hit
  rate at rank r of a ranking that is any good cannot exceed the mean hit rate of ranks 1..r. So the
  probability never rises as the rank falls (never falls as the score rises), never exceeds the
  expected precision, and is never exactly 0 or 1 (a finite count never proves either).
- ``probability_low`` / ``probability_high``: the central 95% interval of that Jeffreys posterior
  (Beta(hits + 1/2, pairs - hits + 1/2) of the pool around the position), widened where the cap moves
  the probability below it. A pool of five pairs at the very top gives a wide interval: read it.

With fewer than ``MIN_HELD_OUT_POSITIVES`` held-out positives over all folds, or held-out rankings no
better than chance (mean AUC at most 0.5), there is nothing honest to fit: ``fit_calibration`` raises
and the model stays uncalibrated. A calibration on random pair folds (no publications) is optimistic
for pairs a new study would report, and ``Calibration.caveat`` says so.

All of it reads "when this configuration ranked pairs of publications it had never seen"; it is not the
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
GRID = np.concatenate([[0.0], np.geomspace(1e-5, 1.0, 400)])
#: The columns ``annotate`` adds to a ranking, after ``score`` (the interval only for calibrations that have it).
CALIBRATED_COLUMNS = ("percentile", "probability", "probability_low", "probability_high", "expected_precision")
CALIBRATION_FOLDS = 5
#: the array fields of ``Calibration``, stored as tensors ``calibration.<name>``
_ARRAYS = ("probability_knots", "precision_knots", "reliability")
#: the interval's arrays, optional: a stored calibration may have no interval
_INTERVAL = ("low_knots", "high_knots")
ECE_BINS = 15
#: Fewer held-out positives than this, over all folds, are too few to fit a probability by rank: the top
#: pools would rest on one or two hits, and five folds of three hits gave an inverted fit on a six-drug dataset.
MIN_HELD_OUT_POSITIVES = 30
#: The probability interval: central mass of the Jeffreys posterior of a pool's hit rate.
INTERVAL_MASS = 0.95
#: The name of the probability map in the model file and the ``measured`` record.
METHOD = "isotonic-jeffreys"
PAIR_CAVEAT = ("calibrated on random pair folds, not on held-out publications: optimistic for pairs a new "
               "study would report")
UNBOUNDED_CAVEAT = ("calibrated by an older ammgc: no interval, and probabilities may reach 0 or 1; retrain "
                    "with `ammgc train` for bounded ones")


def _capped_probability(fraction: np.ndarray, probability_knots: np.ndarray,
                        precision_knots: np.ndarray) -> np.ndarray:
    """The probability at each top fraction, never above the expected precision there (the knots
    ``fit_calibration`` fits lie under the precision knots; the minimum holds any stored ones to it)."""
    return np.minimum(np.interp(fraction, GRID, probability_knots), np.interp(fraction, GRID, precision_knots))


@dataclass(frozen=True)
class Calibration:
    """Maps a pair's top fraction among the candidates to a probability (with an interval) and an expected
    precision."""

    method: str
    protocol: str
    folds: int
    probability_knots: np.ndarray  # probability at each GRID top fraction
    precision_knots: np.ndarray  # expected precision at each GRID top fraction
    prevalence: float  # share of positives among the out-of-fold candidates
    # rows: mean held-out probability, observed share of positives, pairs; one column per equal-mass bin
    reliability: np.ndarray
    measured: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> held-out brier / ece
    # the probability's interval at each GRID top fraction (None: a stored calibration without one)
    low_knots: np.ndarray | None = None
    high_knots: np.ndarray | None = None
    positives: int = 0  # held-out positives the maps rest on (0: not recorded)
    candidates: int = 0  # held-out candidate pairs, all folds together (0: not recorded)

    def probability(self, top_fraction: np.ndarray) -> np.ndarray:
        return _capped_probability(np.asarray(top_fraction, dtype=np.float64), self.probability_knots,
                                   self.precision_knots)

    def expected_precision(self, top_fraction: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(top_fraction, dtype=np.float64), GRID, self.precision_knots)

    def interval(self, top_fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Lower and upper ends of the probability's interval (None for a calibration without one)."""
        if self.low_knots is None or self.high_knots is None:
            return None
        fraction = np.asarray(top_fraction, dtype=np.float64)
        probability = self.probability(fraction)
        return (np.minimum(np.interp(fraction, GRID, self.low_knots), probability),
                np.maximum(np.interp(fraction, GRID, self.high_knots), probability))

    @property
    def caveat(self) -> str | None:
        """What a reader of these probabilities must know about how they were made, or None."""
        notes = [PAIR_CAVEAT] * (self.protocol == "pair") + [UNBOUNDED_CAVEAT] * (self.low_knots is None)
        return "; ".join(notes) or None

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "protocol": self.protocol, "folds": self.folds,
                "prevalence": self.prevalence, "measured": self.measured, "positives": self.positives,
                "candidates": self.candidates}

    def tensors(self) -> dict[str, np.ndarray]:
        """The maps as a model file stores them (``describe`` holds the rest)."""
        return {f"calibration.{name}": np.ascontiguousarray(getattr(self, name), dtype=np.float64)
                for name in (*_ARRAYS, *_INTERVAL) if getattr(self, name) is not None}

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
                              positives=int(record.get("positives", 0)), candidates=int(record.get("candidates", 0)),
                              **{name: tensors[f"calibration.{name}"] for name in _ARRAYS},
                              **{name: tensors.get(f"calibration.{name}") for name in _INTERVAL})
        except KeyError as exc:
            raise ModelFileError(f"{path}: inconsistent model file: calibration {exc.args[0]!r} is missing") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{path}: inconsistent model file: calibration ({exc})") from None
        if (calibration.low_knots is None) != (calibration.high_knots is None):
            raise ModelFileError(f"{path}: inconsistent model file: calibration interval needs both low_knots and "
                                 f"high_knots")
        knots = [k for k in (calibration.probability_knots, calibration.precision_knots, calibration.low_knots,
                             calibration.high_knots) if k is not None]
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


def _jeffreys_mean(hits: float, pairs: float) -> float:
    return (hits + 0.5) / (pairs + 1.0)


def pooled_rates(fractions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probability and its interval at each GRID top fraction, from held-out (top fraction, label) pairs.

    Pairs are counted per GRID cell (``GRID[k-1] < f <= GRID[k]``); adjacent cells are pooled until the
    Jeffreys posterior means fall strictly with the top fraction (cells with equal rates are one pool, so
    a long run of hits is not shrunk cell by cell); each knot takes its cell's pool (an empty cell, the
    next non-empty cell's pool). Returns (posterior mean, interval low, interval high) per knot.
    """
    from scipy.stats import beta

    cell = np.searchsorted(GRID, fractions, side="left")
    hits = np.bincount(cell, weights=labels, minlength=len(GRID))
    pairs = np.bincount(cell, minlength=len(GRID)).astype(np.float64)
    pools: list[list[float]] = []  # [hits, pairs, last cell]
    for k in np.flatnonzero(pairs):
        pools.append([hits[k], pairs[k], k])
        while len(pools) > 1 and _jeffreys_mean(*pools[-2][:2]) <= _jeffreys_mean(*pools[-1][:2]):
            last = pools.pop()
            pools[-1] = [pools[-1][0] + last[0], pools[-1][1] + last[1], last[2]]
    h, n, ends = (np.array([pool[i] for pool in pools]) for i in range(3))
    # knot k takes the first pool whose last cell is at or after k
    which = np.minimum(np.searchsorted(ends, np.arange(len(GRID)), side="left"), len(pools) - 1)
    tail = (1.0 - INTERVAL_MASS) / 2
    a, b = h + 0.5, n - h + 0.5
    return (a / (n + 1.0))[which], beta.ppf(tail, a, b)[which], beta.ppf(1.0 - tail, a, b)[which]


def precision_curve(fractions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of positives among the pairs at each GRID top fraction or better, for one fold's ranking."""
    order = np.argsort(fractions, kind="stable")
    hits = np.cumsum(labels[order])
    ranks = np.arange(1, len(order) + 1)
    return np.interp(np.maximum(GRID, fractions.min()), fractions[order], hits / ranks)


def _fit(data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(probability, low, high, expected precision) knots from folds of (top fractions, labels)."""
    from sklearn.isotonic import IsotonicRegression

    curves = np.mean([precision_curve(f, y) for f, y in data], axis=0)
    precision = IsotonicRegression(increasing=False).fit(GRID, curves).predict(GRID)
    rate, low, high = pooled_rates(np.concatenate([f for f, _ in data]), np.concatenate([y for _, y in data]))
    probability = np.minimum(rate, precision)
    return probability, np.minimum(low, probability), np.maximum(high, probability), precision


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


def _auc(fractions: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, -fractions))


def fit_calibration(folds: list[tuple[np.ndarray, np.ndarray]], *, protocol: str) -> Calibration:
    """Calibration from out-of-fold rankings: one (scores, labels) pair of arrays per fold.

    Raises AmmgcError, naming the reason, when the folds cannot support one: fewer than two folds, a fold
    without held-out positives or negatives, fewer than ``MIN_HELD_OUT_POSITIVES`` held-out positives, or
    held-out rankings no better than chance.
    """
    if len(folds) < 2:
        raise AmmgcError("calibration needs at least two folds of out-of-fold predictions")
    data = [(top_fractions(s), np.asarray(y, dtype=np.float64)) for s, y in folds]
    if any(y.sum() == 0 or y.sum() == len(y) for _, y in data):
        raise AmmgcError("calibration needs held-out positives and negatives in every fold")
    positives = int(sum(y.sum() for _, y in data))
    if positives < MIN_HELD_OUT_POSITIVES:
        raise AmmgcError(f"the {len(data)} held-out folds hold {positives} positives; a probability by rank "
                         f"needs at least {MIN_HELD_OUT_POSITIVES}")
    auc = float(np.mean([_auc(f, y) for f, y in data]))
    if auc <= 0.5:
        raise AmmgcError(f"the held-out rankings were no better than chance (mean AUC {auc:.3f} over "
                         f"{len(data)} folds): a probability by rank would be wrong")
    # held-out quality: each fold's pairs scored by the maps fitted on the other folds
    held_out = []
    for k, (fraction, _) in enumerate(data):
        knots = _fit([d for j, d in enumerate(data) if j != k])
        held_out.append(_capped_probability(fraction, knots[0], knots[3]))
    predicted = np.concatenate(held_out)
    all_y = np.concatenate([y for _, y in data])
    briers = [float(np.mean((p - y) ** 2)) for p, (_, y) in zip(held_out, data, strict=True)]
    eces = [expected_calibration_error(p, y) for p, (_, y) in zip(held_out, data, strict=True)]
    measured = {METHOD: {"brier": float(np.mean(briers)), "ece": float(np.mean(eces)), "auc": auc}}
    probability, low, high, precision = _fit(data)
    return Calibration(METHOD, protocol, len(data), probability, precision, float(all_y.mean()),
                       reliability_bins(predicted, all_y), measured, low, high, positives, len(all_y))


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
    """A ranking table with ``percentile``, ``probability`` (with ``probability_low`` and ``probability_high``
    where the calibration has an interval) and ``expected_precision`` after ``score``.

    Positions are taken among ``candidate_scores``, whatever subset the table shows: the model's own
    candidate pairs (every unobserved pair of its training drugs and miRNAs), so that a pair's position
    does not depend on what else is ranked beside it (a new drug's pairs are placed among the known
    candidates, not among each other's); ties share their mean position, as in ``top_fractions``.
    """
    ordered = np.sort(np.asarray(candidate_scores, dtype=np.float64))
    below, fraction = positions(ordered, table["score"].to_numpy(dtype=np.float64))
    out = table.copy()
    out["percentile"] = 100.0 * below / len(ordered)
    out["probability"] = calibration.probability(fraction)
    interval = calibration.interval(fraction)
    if interval is not None:
        out["probability_low"], out["probability_high"] = interval
    out["expected_precision"] = calibration.expected_precision(fraction)
    return out
