"""Popularity: score(i, j) = degree of drug i x degree of miRNA j in the training graph.

No learning and no features; a strong baseline on this benchmark because a few drugs carry
most associations. Every results table shows it.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.methods import Method


class Popularity(Method):
    name = "popularity"

    def fit(self, train: np.ndarray, dataset: Dataset, *, seed: int = 0) -> Self:
        train = np.asarray(train, dtype=np.float64)
        self._scores = np.outer(train.sum(axis=1), train.sum(axis=0))
        return self

    def score(self) -> np.ndarray:
        return self._scores
