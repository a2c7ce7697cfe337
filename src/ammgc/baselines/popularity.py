"""Popularity: score(i, j) = activity of drug i x activity of miRNA j in the training graph.

No learning and no features; a strong baseline on this benchmark because a few drugs carry most
associations. Every results table shows it. Activity is the degree (``counts="pairs"``, the default)
or the number of distinct publications that first reported a training pair of the node
(``counts="studies"``, needs the dataset's publications; ``ammgc.data.publications.report_counts``):
one high-throughput study inflates a degree by hundreds, a study count by one. ``smoothing`` adds a
constant to both counts, so pairs with one zero count are still ordered by the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.methods import Method

COUNTS = ("pairs", "studies")


class Popularity(Method):
    name = "popularity"

    @dataclass
    class Config:
        counts: str = "pairs"
        smoothing: float = 0.0

    def needs_publications(self) -> bool:
        return self.config.counts == "studies"

    def fit(self, train: np.ndarray, dataset: Dataset, *, seed: int = 0) -> Self:
        c = self.config
        if c.counts not in COUNTS:
            raise AmmgcError(f"popularity counts must be one of {', '.join(COUNTS)}, not {c.counts!r}")
        if not c.smoothing >= 0:
            raise AmmgcError(f"popularity smoothing must be a number >= 0, not {c.smoothing!r}")
        drug, mirna = activity_counts(np.asarray(train, dtype=np.float64), dataset, c.counts)
        self._scores = np.outer(drug + c.smoothing, mirna + c.smoothing)
        return self

    def score(self) -> np.ndarray:
        return self._scores


def activity_counts(train: np.ndarray, dataset: Dataset, counts: str) -> tuple[np.ndarray, np.ndarray]:
    """Per drug and per miRNA: training degree (``pairs``) or first-report publications (``studies``)."""
    if counts == "pairs":
        return train.sum(axis=1), train.sum(axis=0)
    if dataset.publications is None:
        raise AmmgcError("counts='studies' needs the publication of each association: the benchmark's come "
                         "from ncDR (`ammgc data fetch`), own data needs a pmid (or source and year) column")
    from ammgc.data.publications import report_counts

    return report_counts(dataset.publications, train)
