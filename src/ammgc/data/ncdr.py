"""ncDR (Dai et al. 2017): where each benchmark association was published, mapped from its curated miRNA table.

ncDR is the database the benchmark was built from: one record per (PMID, miRNA, drug, direction). Each
benchmark pair is matched to every ncDR record of the same drug and miRNA, over all ``Drug_effect`` values
(the benchmark counts an association whatever its direction). A drug matches by its name, a synonym given in
parentheses (``Doxorubicin (Adriamycin)``) or, failing both, its PubChem CID; a miRNA by its miRBase id
(ignoring case), a family name without copy number (``hsa-mir-125b`` -> ``hsa-mir-125b-1``, ``-2``) or a
miRBase accession. One documented correction: benchmark drug index 23 is labelled "Lithocholic Acid" (CID
9903) but its associations are exactly ncDR's trastuzumab set, so it is matched as Trastuzumab (only while
that still holds). Pairs that match no record are kept and listed with the reason, never dropped. The
benchmark's mapping ships in the package (``ammgc.data.derived``); the table is read to refresh it and for
own data named like the benchmark.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.data.publications import Publications, build_publications
from ammgc.data.source import DataSource, SourceFile
from ammgc.errors import DataError

NCDR_COLUMNS = ("PMID", "miRNA_ID", "miRBase_acc", "Drug", "CID", "Drug_effect")
#: Benchmark drugs whose label is not the drug their associations belong to: (name, CID) -> ncDR drug.
BENCHMARK_DRUG_CORRECTIONS: dict[tuple[str, str], str] = {("Lithocholic Acid", "9903"): "Trastuzumab"}

_COPY_NUMBER = re.compile(r"^(.+)-(\d+)$")


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
