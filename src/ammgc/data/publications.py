"""Where and when each known association was reported: the input of the study-grouped and time splits.

For the benchmark the publications come from ncDR's curated miRNA table (Dai et al. 2017), the
database the benchmark was built from: one record per (PMID, miRNA, drug, direction). Each benchmark
pair is matched to every ncDR record of the same drug and miRNA, over all ``Drug_effect`` values (the
benchmark counts an association whatever its direction). A drug matches by its name, a synonym given
in parentheses (``Doxorubicin (Adriamycin)``) or, failing both, its PubChem CID; a miRNA by its
miRBase id (ignoring case), a family name without copy number (``hsa-mir-125b`` -> ``hsa-mir-125b-1``,
``-2``) or a miRBase accession. One documented correction: benchmark drug index 23 is labelled
"Lithocholic Acid" (CID 9903) but its associations are exactly ncDR's trastuzumab set, so it is
matched as Trastuzumab (only while that still holds). Pairs that match no record are kept and listed
with the reason, never dropped.

A pair's *first report* is its smallest PMID (PubMed ids rise with time); its *group* for the
study-grouped split is that first-report PMID. Own datasets give the same information in
``associations.csv``: a ``pmid`` column, or ``source`` plus ``year`` (the group is the source of the
earliest year; the time order is the year).
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ammgc.data.benchmark import DATASET_NAME
from ammgc.data.source import DataSource, SourceFile
from ammgc.errors import AmmgcError, DataError, DownloadError

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset

NCDR_COLUMNS = ("PMID", "miRNA_ID", "miRBase_acc", "Drug", "CID", "Drug_effect")
#: Benchmark drugs whose label is not the drug their associations belong to: (name, CID) -> ncDR drug.
BENCHMARK_DRUG_CORRECTIONS: dict[tuple[str, str], str] = {("Lithocholic Acid", "9903"): "Trastuzumab"}
#: What a pair's first report is ordered by: a PubMed id, or a publication year.
OrderKind = Literal["pmid", "year"]

_COPY_NUMBER = re.compile(r"^(.+)-(\d+)$")


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


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def drug_spellings(name: str) -> list[str]:
    """A benchmark drug name and its synonyms: ``Doxorubicin (Adriamycin)`` -> the name, both parts."""
    spellings = [name, re.sub(r"\s*\(.*?\)", "", name), *re.findall(r"\(([^)]*)\)", name)]
    return [s for s in dict.fromkeys(s.strip() for s in spellings) if s]


def read_ncdr(path: str | os.PathLike[str]) -> pd.DataFrame:
    """ncDR's curated miRNA table, checked for the columns the mapping needs and integer PMIDs."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable ncDR table ({type(exc).__name__}: {exc})", file=path) from None
    missing = [c for c in NCDR_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"not ncDR's curated miRNA table: column(s) {', '.join(missing)} missing", file=path)
    bad = ~table["PMID"].str.fullmatch(r"[0-9]+")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"PMID {table['PMID'].iloc[row - 2]!r} is not a PubMed id", file=path, row=row,
                        column="PMID")
    return table


def map_ncdr(dataset: Dataset, table: pd.DataFrame, *, source: str) -> Publications:
    """Match every known association of the benchmark (or any dataset with drug names/CIDs and miRBase
    miRNA ids) to its ncDR records."""
    by_name: dict[str, set[str]] = defaultdict(set)
    by_cid: dict[str, set[str]] = defaultdict(set)
    for drug, cids in table.groupby("Drug")["CID"].agg(";".join).items():
        by_name[_normalise(str(drug))].add(str(drug))
        for cid in str(cids).split(";"):
            if cid.strip():
                by_cid[cid.strip()].add(str(drug))
    mirna_ids = {m.lower() for m in table["miRNA_ID"]}
    by_family: dict[str, set[str]] = defaultdict(set)
    for mid in mirna_ids:
        m = _COPY_NUMBER.match(mid)
        if m:
            by_family[m.group(1)].add(mid)
    by_accession = {acc.strip().upper(): mid.lower() for acc, mid in zip(table["miRBase_acc"], table["miRNA_ID"],
                                                                        strict=True) if acc.strip()}
    records: dict[tuple[str, str], set[int]] = defaultdict(set)
    for drug, mid, pmid in zip(table["Drug"], table["miRNA_ID"], table["PMID"], strict=True):
        records[(str(drug), mid.lower())].add(int(pmid))

    rules: Counter[str] = Counter()
    drug_match: list[set[str]] = []
    drug_keys = _drug_keys(dataset)
    for name, cid in drug_keys:
        hits, rule = set(), "unmatched"
        corrected = BENCHMARK_DRUG_CORRECTIONS.get((name, cid))
        for spelling in drug_spellings(name):
            hits |= by_name.get(_normalise(spelling), set())
        if hits:
            rule = "name" if _normalise(name) in by_name else "synonym"
        elif corrected and _normalise(corrected) in by_name:
            hits, rule = by_name[_normalise(corrected)], "correction"
        elif cid and cid in by_cid:
            hits, rule = by_cid[cid], "cid"
        rules[f"drug {rule}"] += 1
        drug_match.append(hits)
    mirna_match: list[set[str]] = []
    for name in dataset.mirna_names:
        key = name.strip().lower()
        if key in mirna_ids:
            hits, rule = {key}, "id"
        elif key in by_family:
            hits, rule = by_family[key], "family"
        elif key.upper() in by_accession:
            hits, rule = {by_accession[key.upper()]}, "accession"
        else:
            hits, rule = set(), "unmatched"
        rules[f"miRNA {rule}"] += 1
        mirna_match.append(hits)

    pairs = dataset.positive_pairs()
    reports: list[list[tuple[int, str]]] = []
    unmapped: list[tuple[int, int, str]] = []
    for d, m in pairs:
        pmids = {p for drug in drug_match[d] for mid in mirna_match[m] for p in records.get((drug, mid), ())}
        reports.append([(p, str(p)) for p in pmids])
        if not pmids:
            if not drug_match[d]:
                reason = "drug not in ncDR (by name, synonym or CID)"
            elif not mirna_match[m]:
                reason = "miRNA not in ncDR (by id, family or accession)"
            else:
                reason = "ncDR has both, but no record pairs this drug with this miRNA"
            unmapped.append((int(d), int(m), reason))
    # the correction holds only while the corrected drug's pairs all match: otherwise it is not applied
    corrected_rows = [i for i, key in enumerate(drug_keys) if key in BENCHMARK_DRUG_CORRECTIONS]
    for i in corrected_rows:
        rows = [k for k, (d, _) in enumerate(pairs) if d == i]
        if rows and any(not reports[k] for k in rows):
            for k in rows:
                reports[k] = []
            unmapped = [u for u in unmapped if u[0] != i] + [
                (int(i), int(pairs[k][1]), "drug label does not match its associations (correction not confirmed)")
                for k in rows]
    return build_publications(pairs, reports, kind="pmid", source=source, unmapped=tuple(unmapped),
                              rules=dict(rules))


def _drug_keys(dataset: Dataset) -> list[tuple[str, str]]:
    cids = dataset.drugs["cid"] if "cid" in dataset.drugs else [""] * dataset.n_drugs
    return [(str(name), str(cid or "")) for name, cid in zip(dataset.drug_names, cids, strict=True)]


class Ncdr(DataSource):
    """ncDR's curated miRNA table (one file, or a folder holding it); ``load(dataset)`` maps the dataset's
    associations onto its records."""

    title = "ncDR's table"
    cache_name = "ncdr"
    env = "AMMGC_NCDR"
    not_found = "not ncDR's table, nor a folder holding ncDR_Curated_DRmiRNA.csv"
    files = (SourceFile("ncDR_Curated_DRmiRNA.csv", "https://raw.githubusercontent.com/grkovicdorothea/miRNA-database/"
                        "777cd7a59996786abf5a97c63bc78cd4ff3fb26c/ncDR_Curated_DRmiRNA.csv",
                        "e18d1e899ab909c2bbc7d39ffd21332fd7e3d3f8"),)

    def usable(self, path: Path) -> bool:
        return self.file(path, self.files[0]).is_file()

    def file(self, root: Path, spec: SourceFile) -> Path:
        return root if root.is_file() else root / spec.path

    def load(self, dataset: Dataset, *, fetch: bool = True) -> Publications:
        """The publications of ``dataset``'s associations, from the verified table."""
        spec = self.files[0]
        path = self.file(self.resolve(fetch=fetch), spec)
        self.blob(path, spec)
        return map_ncdr(dataset, read_ncdr(path), source=str(path))


def with_publications(dataset: Dataset, *, fetch: bool = True) -> Dataset:
    """``dataset`` with its publications attached: own data carries them; the benchmark's come from ncDR."""
    if dataset.publications is not None:
        return dataset
    if dataset.name != DATASET_NAME:
        raise DataError("this dataset has no publication of its associations, which the study and time "
                        "splits need: add a `pmid` column (or `source` and `year` columns) to its association "
                        "table", file=dataset.source)
    return replace(dataset, publications=Ncdr().load(dataset, fetch=fetch))


def attach_publications(dataset: Dataset, use: str) -> Dataset:
    """The dataset with its publications where the method requires them (an error if they cannot be had)
    or can use them (own data: only if it has them; the benchmark: from ncDR, with a note on stderr if it
    cannot be had; the method then counts pairs)."""
    if use == "unused" or dataset.publications is not None:
        return dataset
    if use == "optional" and dataset.name != DATASET_NAME:
        return dataset  # own data without a publication column: the record says pair counts were used
    try:
        return with_publications(dataset)
    except (DataError, DownloadError) as exc:
        if use == "required":
            raise
        warnings.warn(f"no publications ({exc}); study counts fall back to pair counts", stacklevel=2)
        return dataset
