"""The protocols of evaluation as splitter objects: ``PairSplit``, ``StudySplit``, ``TimeSplit``, ``ColdStartSplit``.

Each is a frozen dataclass whose ``split(dataset)`` yields the folds of the protocol, repeat by repeat: every
fold has its training matrix, its held-out positives and its candidates (every pair it ranks, with labels).

- ``pair`` (the paper's): K folds over the known associations at random.
- ``drug`` / ``mirna`` (cold start): K folds over whole drugs / miRNAs.
- ``study``: K folds over publications: every association goes with the publication that first
  reported it, so no first-report publication has pairs on both sides. Pairs with no known
  publication are each a group of their own. Groups are dealt largest first to the fold with the
  fewest pairs (ties broken at random), so folds are of near-equal size and repeats differ.
- ``time``: one fold per cut-off: training holds the pairs first reported before the cut-off, the
  test the pairs first reported at or after it. Cut-offs are fractions of the first-report order
  (default 60%, 70%, 80%); pairs with no known date are left out of both sides.

Every test set holds the held-out positives plus every pair that is 0 in the full matrix (for
cold-start splits: restricted to the held-out drugs' rows / miRNAs' columns). A plan is deterministic
in (seed, repeat): every method evaluated with the same seed sees the same folds. Repeat r of seed s
shuffles with seed s + r, so ``PairSplit(seed=0, repeats=10)`` uses the seeds 0-9 of the paper's protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from sklearn.model_selection import KFold

from ammgc.errors import AmmgcError
from ammgc.params import ParameterError, check_seed

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset
    from ammgc.data.publications import Publications

SPLITS: tuple[str, ...] = ("pair", "drug", "mirna", "study", "time")
#: Splits that need to know where and when each association was reported.
PUBLICATION_SPLITS = ("study", "time")
DEFAULT_CUTOFFS = (0.6, 0.7, 0.8)
#: Repeats of each protocol when none are asked for: 10 (the paper's) unless named here; the time split has one
#: fold per cut-off and no repeats.
DEFAULT_REPEATS = {"study": 5, "time": 1}


@dataclass(frozen=True)
class Fold:
    """One fold: the training matrix, the held-out positives, and the candidates it ranks with their labels.

    The candidates are the held-out positives plus every pair that is 0 in the full matrix (for cold-start
    splits: restricted to the held-out drugs' rows / miRNAs' columns); ``labels`` marks the held-out ones.
    """

    repeat: int
    fold: int
    train: np.ndarray
    candidates: np.ndarray
    labels: np.ndarray
    held_out: np.ndarray

    @property
    def key(self) -> str:
        return f"r{self.repeat:02d}_f{self.fold:02d}"


def _check_enough(associations: np.ndarray, n_positives: int, n_folds: int, split: str) -> None:
    """Degenerate data is an error before any training, naming what is short and what to change."""
    if n_positives == 0:
        raise AmmgcError("the dataset has no known association: there is nothing to cross-validate")
    if n_positives == associations.size:
        raise AmmgcError("every drug-miRNA pair of the dataset is a known association: there is no unobserved "
                         "pair to test against")
    if split == "pair" and n_positives < n_folds:
        raise AmmgcError(f"{n_positives} association(s) cannot fill {n_folds} folds; lower n_folds to at most "
                         f"{n_positives}")
    if split in ("drug", "mirna"):
        count = associations.shape[0 if split == "drug" else 1]
        what = "drugs" if split == "drug" else "miRNAs"
        if count < n_folds:
            raise AmmgcError(f"the {split} split holds out {what}: {count} {what} cannot fill {n_folds} folds; "
                             f"lower n_folds to at most {count}")


def _held_out_folds(associations: np.ndarray, repeat: int, held_out: list[np.ndarray]) -> list[Fold]:
    """Fold k holds out the positives ``held_out[k]``; its test set adds every unobserved pair."""
    negatives = np.argwhere(associations == 0)
    folds = []
    for k, held in enumerate(held_out):
        train = associations.copy()
        train[held[:, 0], held[:, 1]] = 0
        pairs = np.concatenate([held, negatives])
        labels = np.concatenate([np.ones(len(held), np.int8), np.zeros(len(negatives), np.int8)])
        folds.append(Fold(repeat, k, train, pairs, labels, held))
    return folds


def study_groups(publications: Publications) -> np.ndarray:
    """Each pair's group id: its first-report publication, or a group of its own where unknown."""
    labels = [str(g) if known else f"unknown:{k}"
              for k, (g, known) in enumerate(zip(publications.group, publications.known, strict=True))]
    _, ids = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    return ids.astype(np.int64)


def study_fold_of(publications: Publications, *, n_folds: int, seed: int) -> np.ndarray:
    """The fold of every pair under the study split: whole groups, near-equal fold sizes, seeded."""
    groups = study_groups(publications)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    if n_groups < n_folds:
        raise AmmgcError(f"the study split needs at least as many publications as folds: {n_groups} "
                         f"publication group(s) for {n_folds} folds; lower n_folds")
    sizes = np.bincount(groups, minlength=n_groups)
    rng = np.random.default_rng(seed)
    # a random order first, then a stable sort by size: equal-sized groups come in a seeded order
    order = rng.permutation(n_groups)
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(n_folds, dtype=np.int64)
    group_fold = np.empty(n_groups, dtype=np.int64)
    for g in order:
        lightest = np.flatnonzero(load == load.min())
        k = int(rng.choice(lightest))
        group_fold[g] = k
        load[k] += sizes[g]
    return group_fold[groups]


def time_cutoffs(publications: Publications, cutoffs: Sequence[float]) -> list[int]:
    """The first-report key at each fraction of the dated pairs' time order (the first test key)."""
    keys = np.sort(publications.first_report[publications.known])
    if len(keys) < 2:
        raise AmmgcError("the time split needs at least two associations with a known publication")
    out = []
    for fraction in cutoffs:
        if not 0.0 < fraction < 1.0:
            raise AmmgcError(f"time-split cut-off {fraction} must lie strictly between 0 and 1 (cutoffs)")
        key = int(keys[min(len(keys) - 1, int(np.floor(fraction * len(keys))))])
        if key == keys[0]:
            raise AmmgcError(f"time-split cut-off {fraction} leaves no association before it (cutoffs)")
        out.append(key)
    return out


def time_folds(associations: np.ndarray, publications: Publications, cutoffs: Sequence[float]) -> list[Fold]:
    """One fold per cut-off: train before it, test from it on; pairs of unknown date on neither side."""
    positives = publications.pairs
    known, first = publications.known, publications.first_report
    negatives = np.argwhere(associations == 0)
    folds = []
    for k, key in enumerate(time_cutoffs(publications, cutoffs)):
        train = np.zeros_like(associations)
        before = positives[known & (first < key)]
        train[before[:, 0], before[:, 1]] = 1
        held = positives[known & (first >= key)]
        pairs = np.concatenate([held, negatives])
        labels = np.concatenate([np.ones(len(held), np.int8), np.zeros(len(negatives), np.int8)])
        folds.append(Fold(0, k, train, pairs, labels, held))
    return folds


class Splitter(ABC):
    """A protocol: ``split(dataset)`` yields its folds in a fixed order; ``seed`` also seeds each fold's training
    (``fold_seed``), so every method evaluated with the same splitter sees the same folds and seeds."""

    kind: ClassVar[str]
    #: whether the folds depend on where and when each association was reported (``dataset.publications``)
    needs_publications: ClassVar[bool] = False
    seed: int

    @abstractmethod
    def split(self, dataset: Dataset) -> Iterator[Fold]:
        """The folds, repeat by repeat."""

    def params(self) -> dict[str, object]:
        """The protocol and its parameters, as results and exported folds record them."""
        return {"split": self.kind, **asdict(self)}  # type: ignore[call-overload]

    def _associations(self, dataset: Dataset) -> np.ndarray:
        if self.needs_publications:
            publications = dataset.publications
            if publications is None:
                raise AmmgcError(f"the {self.kind} split needs the publication of each association: the "
                                 f"benchmark carries them; own data needs a pmid (or source and year) column")
            if not np.array_equal(publications.pairs, np.argwhere(np.asarray(dataset.associations) == 1)):
                raise AmmgcError("the publications do not describe this association matrix")
        return np.asarray(dataset.associations, dtype=np.uint8)


def _check_folds(n_folds: object, repeats: object, seed: object) -> None:
    for name, value, low in (("n_folds", n_folds, 2), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ParameterError(f"{name} must be an integer >= {low}, not {value!r}")
    check_seed(seed)


@dataclass(frozen=True)
class _PositiveSplit(Splitter):
    """``n_folds`` folds over the known associations, ``repeats`` times: each repeat deals the positives into the
    sets its folds hold out (``_deal``), shuffled with seed + r."""

    n_folds: int = 5
    repeats: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        _check_folds(self.n_folds, self.repeats, self.seed)

    def split(self, dataset: Dataset) -> Iterator[Fold]:
        associations = self._associations(dataset)
        positives = np.argwhere(associations == 1)
        _check_enough(associations, len(positives), self.n_folds, self.kind)
        for r in range(self.repeats):
            yield from _held_out_folds(associations, r, self._deal(dataset, positives, self.seed + r))

    @abstractmethod
    def _deal(self, dataset: Dataset, positives: np.ndarray, seed: int) -> list[np.ndarray]:
        """The positives each fold of one repeat holds out."""


@dataclass(frozen=True)
class PairSplit(_PositiveSplit):
    """The paper's protocol: ``n_folds`` folds over the known associations at random, ``repeats`` times (repeat
    r shuffles with seed + r)."""

    kind: ClassVar[str] = "pair"

    def _deal(self, dataset: Dataset, positives: np.ndarray, seed: int) -> list[np.ndarray]:
        kfold = KFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
        return [positives[test] for _, test in kfold.split(positives)]


@dataclass(frozen=True)
class StudySplit(_PositiveSplit):
    """Whole publications held out: every association goes with the publication that first reported it."""

    repeats: int = 5
    kind: ClassVar[str] = "study"
    needs_publications: ClassVar[bool] = True

    def _deal(self, dataset: Dataset, positives: np.ndarray, seed: int) -> list[np.ndarray]:
        fold_of = study_fold_of(dataset.publications, n_folds=self.n_folds, seed=seed)
        return [positives[fold_of == k] for k in range(self.n_folds)]


@dataclass(frozen=True)
class TimeSplit(Splitter):
    """One fold per cut-off (fractions of the first-report order): train on the pairs reported before it, test
    on the later ones. It has no repeats; ``seed`` seeds the training."""

    cutoffs: tuple[float, ...] = DEFAULT_CUTOFFS
    seed: int = 0
    kind: ClassVar[str] = "time"
    needs_publications: ClassVar[bool] = True

    def __post_init__(self) -> None:
        try:
            values = tuple(float(c) for c in self.cutoffs)
        except (TypeError, ValueError):
            raise ParameterError(f"cutoffs must be fractions like (0.6, 0.7, 0.8), not {self.cutoffs!r}") from None
        if not values or any(not 0.0 < v < 1.0 for v in values) or len(set(values)) != len(values):
            raise ParameterError(f"cutoffs must be distinct fractions strictly between 0 and 1, not {self.cutoffs!r}")
        object.__setattr__(self, "cutoffs", values)
        check_seed(self.seed)

    @property
    def repeats(self) -> int:
        return 1

    def split(self, dataset: Dataset) -> Iterator[Fold]:
        associations = self._associations(dataset)
        _check_enough(associations, int(associations.sum()), 1, self.kind)
        yield from time_folds(associations, dataset.publications, self.cutoffs)


@dataclass(frozen=True)
class ColdStartSplit(Splitter):
    """Whole drugs (``side="drug"``) or miRNAs (``side="mirna"``) held out: the candidates are every pair of the
    held-out rows (or columns)."""

    side: str = "drug"
    n_folds: int = 5
    repeats: int = 10
    seed: int = 0
    kind: ClassVar[str] = "cold-start"

    def __post_init__(self) -> None:
        if self.side not in ("drug", "mirna"):
            raise ParameterError(f"side must be 'drug' or 'mirna', not {self.side!r}")
        _check_folds(self.n_folds, self.repeats, self.seed)

    def params(self) -> dict[str, object]:
        return {"split": self.side, **asdict(self)}

    def split(self, dataset: Dataset) -> Iterator[Fold]:
        associations = self._associations(dataset)
        _check_enough(associations, int(associations.sum()), self.n_folds, self.side)
        axis = 0 if self.side == "drug" else 1
        entities = np.arange(associations.shape[axis])
        for r in range(self.repeats):
            kfold = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed + r)
            for k, (_, test_idx) in enumerate(kfold.split(entities)):
                held = entities[test_idx]
                train = associations.copy()
                if axis == 0:
                    train[held, :] = 0
                    rows, cols = np.meshgrid(held, np.arange(associations.shape[1]), indexing="ij")
                else:
                    train[:, held] = 0
                    rows, cols = np.meshgrid(np.arange(associations.shape[0]), held, indexing="ij")
                pairs = np.stack([rows.ravel(), cols.ravel()], axis=1)
                labels = associations[pairs[:, 0], pairs[:, 1]].astype(np.int8)
                yield Fold(r, k, train, pairs, labels, held)


def splitter(kind: str, *, n_folds: int = 5, repeats: int | None = None, seed: int = 0,
             cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> Splitter:
    """The splitter of a protocol by name (``pair``, ``study``, ``time``, ``drug``, ``mirna``), with the
    protocol's default repeats where none are given."""
    if kind not in SPLITS:
        raise ParameterError(f"split must be one of {', '.join(SPLITS)}, not {kind!r}")
    if repeats is None:
        repeats = DEFAULT_REPEATS.get(kind, 10)
    if kind == "time":
        if repeats != 1:
            raise ParameterError(f"the time split has one fold per cut-off and no repeats (repeats={repeats}); "
                                 f"choose the cut-offs instead")
        return TimeSplit(tuple(cutoffs), seed=seed)
    if kind == "pair":
        return PairSplit(n_folds, repeats, seed)
    if kind == "study":
        return StudySplit(n_folds, repeats, seed)
    return ColdStartSplit(kind, n_folds, repeats, seed)
