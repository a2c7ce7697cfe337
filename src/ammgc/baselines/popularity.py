"""Popularity: score(i, j) = activity of drug i x activity of miRNA j in the training graph.

No learning and no features; a strong baseline on this benchmark because a few drugs carry most
associations. Every results table shows it. Activity is the degree (``counts="pairs"``, the default)
or the number of distinct publications that first reported a training pair of the node
(``counts="studies"``, needs the dataset's publications; ``ammgc.data.publications.report_counts``;
``auto`` counts studies where the dataset has publications):
one high-throughput study inflates a degree by hundreds, a study count by one. ``smoothing`` adds a
constant to both counts, so pairs with one zero count are still ordered by the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.data.publications import ACTIVITY_COUNTS, PUBLICATIONS_USE, node_activity
from ammgc.methods import Method, PublicationsUse
from ammgc.params import NON_NEGATIVE, OneOf


class Popularity(Method):
    name = "popularity"

    @dataclass
    class Config:
        counts: str = "pairs"
        smoothing: float = 0.0

    parameters = {"counts": OneOf(ACTIVITY_COUNTS), "smoothing": NON_NEGATIVE}

    @property
    def publications_use(self) -> PublicationsUse:
        return PUBLICATIONS_USE.get(self.config.counts, "unused")  # type: ignore[return-value]

    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        c = self.config
        drug, mirna, _ = node_activity(train, dataset.publications, c.counts)
        self._scores = np.outer(drug + c.smoothing, mirna + c.smoothing)

    def _score(self) -> np.ndarray:
        return self._scores
