"""Where and when each known association was reported: the input of the study-grouped and time splits, and of
activity counted in publications.

The benchmark's come from ncDR (``ammgc.data.ncdr``; shipped as ``ammgc.data.derived``). A pair's *first
report* is its smallest PMID (PubMed ids rise with time); its *group* for the study-grouped split is that
first-report PMID. Own datasets give the same information in ``associations.csv``: a ``pmid`` column, or
``source`` plus ``year`` (the group is the source of the earliest year; the time order is the year).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ammgc.errors import AmmgcError

#: What a pair's first report is ordered by: a PubMed id, or a publication year.
OrderKind = Literal["pmid", "year"]


@dataclass(frozen=True)
class Publications:
    """The reports of every known association of a dataset, in ``Dataset.positive_pairs()`` order.

    ``first_report`` orders pairs in time (PMID or year; -1 where unknown); ``group`` is the
    publication a pair was first reported in (its study-split group; "" where unknown); ``references``
    lists every report of the pair. ``unmapped`` holds (drug index, miRNA index, reason) of each pair
    without a known report; ``rules`` counts how drugs and miRNAs were matched.
    """

    pairs: np.ndarray
    first_report: np.ndarray
    group: np.ndarray
    references: tuple[str, ...]
    kind: OrderKind
    source: str
    unmapped: tuple[tuple[int, int, str], ...] = ()
    rules: dict[str, int] = field(default_factory=dict)

    @property
    def known(self) -> np.ndarray:
        """Boolean mask of pairs with a known first report."""
        return self.first_report >= 0

    @property
    def coverage(self) -> float:
        return float(self.known.mean()) if len(self.pairs) else 0.0

    def digest(self) -> str:
        """A short hash of the pairs, their groups and order: equal digests mean identical splits."""
        h = hashlib.sha1()
        h.update(np.ascontiguousarray(self.pairs, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.first_report, dtype=np.int64).tobytes())
        h.update("\n".join(map(str, self.group)).encode())
        return h.hexdigest()[:16]

    def restricted_to(self, associations: np.ndarray) -> Publications:
        """The publications of the pairs that are 1 in ``associations`` (a training matrix of this dataset)."""
        keep = np.asarray(associations)[self.pairs[:, 0], self.pairs[:, 1]] == 1
        if int(keep.sum()) != int(np.asarray(associations).sum()):
            raise ValueError("the matrix holds pairs these publications do not describe")
        kept = {(int(d), int(m)) for d, m in self.pairs[keep]}
        return replace(self, pairs=self.pairs[keep], first_report=self.first_report[keep], group=self.group[keep],
                       references=tuple(r for r, k in zip(self.references, keep, strict=True) if k),
                       unmapped=tuple(u for u in self.unmapped if (u[0], u[1]) in kept))

    def report_labels(self) -> np.ndarray:
        """Each pair's first-report publication, or a publication of its own (``unknown:d:m``) where unknown."""
        return np.array([str(g) if k else f"unknown:{d}:{m}"
                         for (d, m), g, k in zip(self.pairs, self.group, self.known, strict=True)], dtype=object)

    def group_sizes(self) -> Counter[str]:
        """Pairs per first-report group (unknown pairs excluded)."""
        return Counter(str(g) for g, k in zip(self.group, self.known, strict=True) if k)

    def summary(self, drug_names: list[str] | None = None, mirna_names: list[str] | None = None
                ) -> dict[str, object]:
        sizes = sorted(self.group_sizes().values(), reverse=True)
        known = self.first_report[self.known]
        total = len(self.pairs)

        def name(names: list[str] | None, i: int) -> str:
            return names[i] if names is not None else str(i)

        return {
            "source": self.source,
            "order": self.kind,
            "pairs": total,
            "mapped": int(self.known.sum()),
            "coverage": self.coverage,
            "groups": len(sizes),
            "largest_groups": sizes[:10],
            "groups_of_50_or_more": sum(s >= 50 for s in sizes),
            "pairs_in_groups_of_50_or_more": int(sum(s for s in sizes if s >= 50)),
            "singleton_groups": sum(s == 1 for s in sizes),
            "first_report_range": [int(known.min()), int(known.max())] if len(known) else [],
            "rules": dict(self.rules),
            "unmapped": [{"drug": name(drug_names, d), "mirna": name(mirna_names, m), "reason": reason}
                         for d, m, reason in self.unmapped],
        }


def report_counts(publications: Publications, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many distinct publications first reported a training pair of each drug and of each miRNA.

    Only the pairs that are 1 in ``train`` count, and only by their first report: a training pair's later
    reports may be held-out publications (study split) or the future (time split). A pair with no known
    publication counts as a publication of its own. Unlike a degree, this is not inflated by one
    high-throughput study reporting hundreds of pairs.
    """
    known = publications.restricted_to(train)
    labels = known.report_labels()
    p, q = np.asarray(train).shape

    def distinct(entity: np.ndarray, n: int) -> np.ndarray:
        pairs = {(int(e), label) for e, label in zip(entity, labels, strict=True)}
        return np.bincount(np.array([e for e, _ in pairs], dtype=np.int64), minlength=n).astype(np.float64)

    return distinct(known.pairs[:, 0], p), distinct(known.pairs[:, 1], q)


#: What a node's activity counts: its training pairs (degree), or the publications that first reported them.
ACTIVITY_COUNTS = ("pairs", "studies", "auto", "mixed")
#: Whether counting activity one way needs the dataset's publications (``Method.publications_use``).
PUBLICATIONS_USE = {"pairs": "unused", "studies": "required", "auto": "optional", "mixed": "optional"}


def counted_as(counts: str, publications: Publications | None) -> str:
    """What ``counts`` counts given whether the publications are known: ``auto`` and ``mixed`` fall back
    to ``pairs`` without them (``studies`` does not: it needs them)."""
    if counts not in ACTIVITY_COUNTS:
        raise AmmgcError(f"counts must be one of {', '.join(ACTIVITY_COUNTS)}, not {counts!r}")
    if counts == "auto":
        return "studies" if publications is not None else "pairs"
    if counts == "mixed" and publications is None:
        return "pairs"
    return counts


def node_activity(train: np.ndarray, publications: Publications | None, counts: str
                  ) -> tuple[np.ndarray, np.ndarray, str]:
    """Per drug and per miRNA activity in ``train``, and which count it is (``pairs``, ``studies``, ``mixed``).

    ``auto`` counts studies where the publications are known and pairs otherwise; ``mixed`` is the
    geometric mean of 1 + pairs and 1 + studies, minus 1 (so log(1 + activity) is the mean of the two
    logs), also pairs alone where the publications are not known.
    """
    kind = counted_as(counts, publications)
    train = np.asarray(train, dtype=np.float64)
    degrees = train.sum(axis=1), train.sum(axis=0)
    if kind == "pairs":
        return *degrees, "pairs"
    if publications is None:
        raise AmmgcError("counting studies needs the publication of each association: the benchmark's come "
                         "from ncDR (`ammgc data fetch`), own data needs a pmid (or source and year) column")
    studies = report_counts(publications, train)
    if kind == "mixed":
        drugs, mirnas = (np.sqrt((1 + d) * (1 + s)) - 1 for d, s in zip(degrees, studies, strict=True))
        return drugs, mirnas, "mixed"
    return *studies, "studies"


def build_publications(pairs: np.ndarray, reports: list[list[tuple[int, str]]], *, kind: OrderKind, source: str,
                       unmapped: tuple[tuple[int, int, str], ...] = (), rules: dict[str, int] | None = None
                       ) -> Publications:
    """Publications from each pair's reports as (order key, group label); an empty list = unknown."""
    first = np.full(len(pairs), -1, dtype=np.int64)
    group = np.full(len(pairs), "", dtype=object)
    references = []
    for k, found in enumerate(reports):
        if found:
            key, label = min(found)
            first[k], group[k] = key, label
        references.append(";".join(sorted({label for _, label in found})))
    return Publications(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), first, group, tuple(references),
                        kind, source, unmapped, dict(rules or {}))
