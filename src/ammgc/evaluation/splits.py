"""Cross-validation split plans: over pairs (the paper's), or over whole drugs / miRNAs (cold start).

A plan is deterministic in (seed, repeat): every method evaluated with the same seed sees the
same folds. Repeat r of seed s shuffles with seed s + r, so ``--seed 0 --repeats 10`` uses the
seeds 0-9 of the paper's protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.model_selection import KFold

SplitKind = Literal["pair", "drug", "mirna"]


@dataclass(frozen=True)
class Fold:
    """One fold: the training matrix and the test pairs with labels.

    The test set holds the held-out positives plus every pair that is 0 in the full matrix
    (for cold-start splits: restricted to the held-out drugs' rows / miRNAs' columns).
    """

    repeat: int
    fold: int
    train: np.ndarray
    test_pairs: np.ndarray
    test_labels: np.ndarray
    held_out: np.ndarray

    @property
    def key(self) -> str:
        return f"r{self.repeat:02d}_f{self.fold:02d}"


def make_folds(associations: np.ndarray, *, n_folds: int = 5, repeat: int = 0, seed: int = 0,
               split: SplitKind = "pair") -> list[Fold]:
    """The ``n_folds`` folds of one repeat."""
    associations = np.asarray(associations, dtype=np.uint8)
    kfold = KFold(n_splits=n_folds, shuffle=True, random_state=seed + repeat)
    positives = np.argwhere(associations == 1)
    folds = []
    if split == "pair":
        negatives = np.argwhere(associations == 0)
        for k, (_, test_idx) in enumerate(kfold.split(positives)):
            held = positives[test_idx]
            train = associations.copy()
            train[held[:, 0], held[:, 1]] = 0
            pairs = np.concatenate([held, negatives])
            labels = np.concatenate([np.ones(len(held), np.int8), np.zeros(len(negatives), np.int8)])
            folds.append(Fold(repeat, k, train, pairs, labels, held))
        return folds
    axis = 0 if split == "drug" else 1
    entities = np.arange(associations.shape[axis])
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
        folds.append(Fold(repeat, k, train, pairs, labels, held))
    return folds
