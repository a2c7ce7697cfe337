"""Bring-your-own data: a directory of small CSV/TSV tables (or one association table) as a ``Dataset``.

Layout of the directory (``.csv``, ``.tsv`` or ``.txt``; comma, tab or semicolon, sniffed)::

    associations.csv        required: columns drug, mirna [, label]  (label 1 = association, 0 = none known)
                            [, pmid | source, year]  (where each association was reported: the study
                            and time splits need it; an empty cell = not known)
    drugs.csv               optional: columns name [, smiles, cid, mesh]
    mirnas.csv              optional: columns name [, sequence]
    features/drug/<view>.csv    drug feature table: header row, names in the first column, numbers after
    features/mirna/<view>.csv   miRNA feature table, same shape
    features/<view>.csv         feature table whose entity is decided by its names (all drug or all miRNA)

The view is named after the file stem. Names are stripped and matched case-sensitively; a name that
matches nothing gets a "did you mean" hint. Drugs and miRNAs listed in drugs.csv / mirnas.csv but
absent from the associations are kept: they are the ones to predict for. Anything doubtful (a
duplicate, an unknown name, a missing feature row, a non-number) is an error naming file and row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset, Entity, FeatureView
from ammgc.data.publications import OrderKind, Publications, build_publications
from ammgc.data.validation import (
    Table,
    did_you_mean,
    find_mean_imputed_rows,
    is_number,
    parse_numeric_rows,
    read_table,
)
from ammgc.errors import DataError
from ammgc.io import file_blob_sha1

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
ENTITY_FOLDERS: dict[str, Entity] = {"drug": "drug", "mirna": "mirna"}
_NUCLEOTIDES = re.compile(r"[ACGTURYSWKMBDHVN]*", re.IGNORECASE)
_WHAT = {"drug": "drug", "mirna": "miRNA"}


@dataclass(frozen=True)
class OwnData:
    """A loaded own dataset and the warnings worth showing (nothing here makes it wrong)."""

    dataset: Dataset
    warnings: list[str]


def load_own_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Load a bring-your-own dataset: a directory in the layout above, or a single association table."""
    return read_own_dataset(path).dataset


def read_own_dataset(path: str | os.PathLike[str]) -> OwnData:
    """Like ``load_own_dataset``, also returning warnings (for ``ammgc data check``)."""
    root = Path(path)
    warnings: list[str] = []
    if root.is_file():
        _refuse_excel(root)
        associations_file, drugs_file, mirnas_file = root, None, None
    elif root.is_dir():
        found = _find_table(root, "associations")
        drugs_file, mirnas_file = _find_table(root, "drugs"), _find_table(root, "mirnas")
        _check_near_misses(root, {"associations": found, "drugs": drugs_file, "mirnas": mirnas_file}, warnings)
        if found is None:
            raise DataError("not a dataset: expected drug-miRNA.txt (benchmark layout) or associations.csv "
                            "(own data: columns drug,mirna)", file=root)
        associations_file = found
    else:
        raise DataError("no such file or directory", file=root)

    drugs = _read_entities(drugs_file, "drug", ("smiles", "cid", "mesh"), warnings) if drugs_file else None
    mirnas = _read_entities(mirnas_file, "mirna", ("sequence",), warnings) if mirnas_file else None
    drug_names, mirna_names, matrix, reports = _read_associations(
        associations_file, list(drugs["name"]) if drugs is not None else None,
        list(mirnas["name"]) if mirnas is not None else None, warnings)
    if drugs is None:
        drugs = pd.DataFrame({"name": drug_names})
    if mirnas is None:
        mirnas = pd.DataFrame({"name": mirna_names})
    drug_table = pd.DataFrame({"name": drugs["name"],
                               **{c: drugs.get(c, "") for c in ("cid", "mesh", "smiles")}})
    _check_sequences(mirnas, mirnas_file)
    _check_smiles(drug_table, drugs_file, warnings)

    views: dict[str, FeatureView] = {}
    if root.is_dir():
        for file, entity in _feature_files(root / "features", warnings):
            view = _read_view(file, entity, drug_names, mirna_names, warnings)
            if view.name in views:
                raise DataError(f"a second feature view named {view.name!r} (also {views[view.name].source})",
                                file=file)
            views[view.name] = _describe_rows(view, warnings)

    unassociated = [(int((matrix.sum(axis=1 - axis) == 0).sum()), what)
                    for axis, what in ((0, "drugs"), (1, "miRNAs"))]
    if any(n for n, _ in unassociated):
        counts = " and ".join(f"{n} {what}" for n, what in unassociated if n)
        warnings.append(f"{counts} have no known association; they are kept (candidates to predict for)")
    mirna_table = pd.DataFrame({column: list(mirnas[column]) for column in mirnas.columns})
    dataset = Dataset(associations=matrix, drugs=drug_table, mirnas=mirna_table,
                      views=views, source=str(root), name=root.stem if root.is_file() else root.name,
                      publications=_publications(matrix, reports, associations_file, warnings))
    return OwnData(dataset, warnings)


def _refuse_excel(path: Path) -> None:
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        raise DataError("Excel workbooks are not read as own data; save the table as CSV "
                        "(columns drug,mirna)", file=path)


#: Spellings of a known table's name that are not it: read as that table they would be, ignored they drop data.
_NEAR_MISSES = {"drugs": {"drugs", "drug"}, "mirnas": {"mirnas", "mirna", "mirs", "micrornas", "microrna"},
                "associations": {"associations", "association"}}


def _check_near_misses(root: Path, found: dict[str, Path | None], warnings: list[str]) -> None:
    """A file named like a known table but not exactly (``miRNAs.csv``, ``drugs.CSV``, ``drug.csv``) is an
    error when the table is absent (its data would be dropped without a word), a warning beside it."""
    for child in sorted(root.iterdir()):
        if not child.is_file() or child.name.startswith("."):
            continue
        stem, suffix = child.stem.lower(), child.suffix.lower()
        for table, spellings in _NEAR_MISSES.items():
            exact = child.suffix in TABLE_SUFFIXES and child.stem == table
            if exact or stem not in spellings or suffix not in TABLE_SUFFIXES:
                continue
            expected = f"{table}{suffix}"
            if found.get(table) is None:
                raise DataError(f"looks like the {table} table but is not named {expected} exactly (names are "
                                f"case-sensitive); rename it, or its data is not read", file=child)
            warnings.append(f"{child}: ignored; the {table} table is {found[table].name}")


def _find_table(root: Path, stem: str) -> Path | None:
    found = [root / f"{stem}{suffix}" for suffix in TABLE_SUFFIXES if (root / f"{stem}{suffix}").is_file()]
    if len(found) > 1:
        raise DataError(f"{' and '.join(f.name for f in found)} both exist; keep one", file=root)
    return found[0] if found else None


def _require_columns(table: Table, names: tuple[str, ...], what: str) -> list[int]:
    missing = [n for n in names if table.column(n) is None]
    if missing:
        header = table.delimiter.join(table.header)
        hint = ""
        if len(table.header) == 1 and re.search(r"[ |:]", table.header[0]):
            hint = "; separate columns with a comma, tab or semicolon"
        raise DataError(f"{what} needs column(s) {', '.join(missing)}; the header (first line) is "
                        f"{header!r}{hint}", file=table.path, row=1)
    return [table.column(n) for n in names]  # type: ignore[misc]


def _warn_unused_columns(table: Table, used: tuple[str, ...], warnings: list[str]) -> None:
    unused = [h for h in table.header if h.lower() not in used]
    if unused:
        warnings.append(f"{table.path}: column(s) {', '.join(map(repr, unused))} ignored")


def _read_entities(path: Path, entity: Entity, optional: tuple[str, ...],
                   warnings: list[str]) -> pd.DataFrame:
    what = _WHAT[entity]
    table = read_table(path)
    (name_col,) = _require_columns(table, ("name",), f"a {what} table")
    _warn_unused_columns(table, ("name", *optional), warnings)
    if not table.rows:
        raise DataError(f"lists no {what}s", file=path)
    names = [row[name_col] for row in table.rows]
    _check_names(names, table.line_numbers, what, path, warnings)
    columns = {"name": names}
    for column in optional:
        index = table.column(column)
        if index is not None:
            columns[column] = [row[index] for row in table.rows]
    out = pd.DataFrame(columns)
    out.attrs["line_numbers"] = table.line_numbers
    return out


def _check_names(names: list[str], lines: list[int], what: str, path: Path, warnings: list[str]) -> None:
    seen: dict[str, int] = {}
    folded: dict[str, str] = {}
    for name, line in zip(names, lines, strict=True):
        if not name:
            raise DataError(f"empty {what} name", file=path, row=line)
        if name in seen:
            raise DataError(f"duplicate {what} name {name!r} (also row {seen[name]})", file=path, row=line)
        seen[name] = line
        other = folded.setdefault(name.lower(), name)
        if other != name:
            warnings.append(f"{path}: {what} names {other!r} and {name!r} differ only in case; "
                            f"they are kept as two {what}s")


#: A report as read from the association table: (order key, group label), or None where not given.
Report = tuple[int, str] | None
#: What the association table says of its reports: how they are ordered, and each labelled pair's report.
ReadReports = tuple[OrderKind, dict[tuple[int, int], Report]]


def _read_associations(path: Path, drugs: list[str] | None, mirnas: list[str] | None, warnings: list[str]
                       ) -> tuple[list[str], list[str], np.ndarray, ReadReports | None]:
    table = read_table(path)
    drug_col, mirna_col = _require_columns(table, ("drug", "mirna"), "the association table")
    label_col = table.column("label")
    reader = _report_reader(table)
    used = ("drug", "mirna", "label", *(PUBLICATION_COLUMNS if reader is not None else ()))
    _warn_unused_columns(table, used, warnings)
    if reader is None and any(table.column(c) is not None for c in ("source", "year")):
        warnings.append(f"{path}: a publication needs both a source and a year column (or a pmid column); "
                        f"without them the study and time splits are not available")
    if not table.rows:
        raise DataError("lists no associations", file=path)
    drug_index = _Index(drugs, "drug", path)
    mirna_index = _Index(mirnas, "mirna", path)
    pairs: dict[tuple[int, int], tuple[int, int]] = {}
    reports: dict[tuple[int, int], Report] = {}
    for row, line in zip(table.rows, table.line_numbers, strict=True):
        label = 1
        if label_col is not None:
            cell = row[label_col]
            if not is_number(cell) or float(cell) not in (0.0, 1.0):
                raise DataError(f"label must be 0 or 1, found {cell[:30]!r}", file=path, row=line,
                                column=label_col + 1)
            label = int(float(cell))
        key = (drug_index.get(row[drug_col], line, drug_col + 1),
               mirna_index.get(row[mirna_col], line, mirna_col + 1))
        if key in pairs:
            raise DataError(f"duplicate pair ({row[drug_col]}, {row[mirna_col]}), "
                            f"first at row {pairs[key][0]}", file=path, row=line)
        pairs[key] = (line, label)
        if reader is not None and label == 1:
            reports[key] = reader[1](row, line)
    matrix = np.zeros((len(drug_index.names), len(mirna_index.names)), dtype=np.uint8)
    for (i, j), (_, label) in pairs.items():
        matrix[i, j] = label
    if not matrix.any():
        raise DataError("no association has label 1", file=path)
    return drug_index.names, mirna_index.names, matrix, (reader[0], reports) if reader is not None else None


PUBLICATION_COLUMNS = ("pmid", "source", "year")
_YEARS = (1900, 2100)


def _report_reader(table: Table) -> tuple[OrderKind, Callable[[list[str], int], Report]] | None:
    """How to read a row's report: from ``pmid``, or from ``source`` plus ``year``; None without either."""
    pmid_col, source_col, year_col = (table.column(c) for c in PUBLICATION_COLUMNS)
    if pmid_col is not None and (source_col is not None or year_col is not None):
        raise DataError("give either a pmid column or source and year columns, not both",
                        file=table.path, row=1)
    if pmid_col is not None:
        def read_pmid(row: list[str], line: int) -> Report:
            cell = row[pmid_col]
            if not cell:
                return None
            if not (cell.isascii() and cell.isdigit()) or int(cell) == 0:
                raise DataError(f"pmid must be a PubMed id (a positive whole number), found {cell[:30]!r}",
                                file=table.path, row=line, column=pmid_col + 1)
            return int(cell), cell.lstrip("0")
        return "pmid", read_pmid
    if source_col is None or year_col is None:
        return None

    def read_source_year(row: list[str], line: int) -> Report:
        source, year = row[source_col], row[year_col]
        if not source and not year:
            return None
        if not source or not year:
            missing = "source" if not source else "year"
            raise DataError(f"{missing} is empty while {'year' if missing == 'source' else 'source'} is given",
                            file=table.path, row=line)
        if not (year.isascii() and year.isdigit()) or not _YEARS[0] <= int(year) <= _YEARS[1]:
            raise DataError(f"year must be a year between {_YEARS[0]} and {_YEARS[1]}, found {year[:30]!r}",
                            file=table.path, row=line, column=year_col + 1)
        return int(year), source
    return "year", read_source_year


def _publications(matrix: np.ndarray, read: ReadReports | None, path: Path,
                  warnings: list[str]) -> Publications | None:
    if read is None:
        return None
    kind, reports = read
    pairs = np.argwhere(matrix == 1)
    found = [[r] if (r := reports.get((int(i), int(j)))) is not None else [] for i, j in pairs]
    unknown = sum(not f for f in found)
    publications = build_publications(pairs, found, kind=kind, source=str(path),
                                      unmapped=tuple((int(i), int(j), "no publication given")
                                                     for (i, j), f in zip(pairs, found, strict=True) if not f))
    if unknown:
        warnings.append(f"{path}: {unknown} of {len(pairs)} associations have no publication; the study split "
                        f"makes each its own group and the time split leaves them out")
    return publications


class _Index:
    """Name -> row index: fixed by a drug/miRNA table when there is one, else grown in order of appearance."""

    def __init__(self, names: list[str] | None, entity: Entity, path: Path) -> None:
        self.fixed = names is not None
        self.names: list[str] = list(names) if names is not None else []
        self.index = {n: i for i, n in enumerate(self.names)}
        self.entity, self.path = entity, path

    def get(self, name: str, line: int, column: int) -> int:
        what = _WHAT[self.entity]
        if not name:
            raise DataError(f"empty {what} name", file=self.path, row=line, column=column)
        if name not in self.index:
            if self.fixed:
                raise DataError(f"unknown {what} {name!r}: not in {self.entity}s table"
                                f"{did_you_mean(name, self.names)}", file=self.path, row=line, column=column)
            self.index[name] = len(self.names)
            self.names.append(name)
        return self.index[name]


def _check_sequences(mirnas: pd.DataFrame, path: Path | None) -> None:
    if "sequence" not in mirnas:
        return
    for sequence, line in zip(mirnas["sequence"], mirnas.attrs["line_numbers"], strict=True):
        if not _NUCLEOTIDES.fullmatch(sequence):
            raise DataError(f"sequence has characters other than nucleotide codes: {sequence[:30]!r}",
                            file=path, row=line)


def _check_smiles(drugs: pd.DataFrame, path: Path | None, warnings: list[str]) -> None:
    """SMILES that RDKit cannot parse are warned about: only SMILES-derived features need them."""
    given = [(i, s) for i, s in enumerate(drugs["smiles"]) if s]
    if not given:
        return
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    spaced = [(i, s) for i, s in given if any(c.isspace() for c in str(s).strip())]
    if spaced:
        i, s = spaced[0]
        raise DataError(f"SMILES of drug {drugs['name'].iloc[i]!r} contains whitespace ({str(s)[:60]!r}); a SMILES "
                        f"is one word, and RDKit would read only the part before the space"
                        + (f" ({len(spaced)} drugs are affected)" if len(spaced) > 1 else ""),
                        file=path, column="smiles")
    from ammgc.sigint import reinstating_sigint

    with reinstating_sigint():  # RDKit may take Ctrl-C over in this process
        bad = [drugs["name"].iloc[i] for i, s in given if Chem.MolFromSmiles(s) is None]
    if bad:
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        warnings.append(f"{path}: SMILES of {len(bad)} drug(s) do not parse ({shown}); "
                        f"SMILES-derived features will be missing for them")


def _feature_files(folder: Path, warnings: list[str]) -> list[tuple[Path, Entity | None]]:
    """Tables in ``features/drug/``, ``features/mirna/`` (entity given) or ``features/`` (by names)."""
    if not folder.is_dir():
        return []
    found: list[tuple[Path, Entity | None]] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() and child.name.lower() in ENTITY_FOLDERS:
            entity = ENTITY_FOLDERS[child.name.lower()]
            for file in sorted(child.iterdir()):
                if file.name.startswith("."):
                    continue
                if file.is_file() and file.suffix.lower() in TABLE_SUFFIXES:
                    found.append((file, entity))
                else:
                    warnings.append(f"{file}: ignored (not a .csv/.tsv/.txt feature table)")
        elif child.is_file() and child.suffix.lower() in TABLE_SUFFIXES:
            found.append((child, None))
        else:
            warnings.append(f"{child}: ignored (feature tables are .csv/.tsv/.txt files in features/, "
                            f"features/drug/ or features/mirna/)")
    return found


def _check_normalisable(matrix: np.ndarray, table: Table, path: Path, warnings: list[str]) -> None:
    """Feature rows are divided by their sum of absolute values (the paper's row normalisation): a row too large
    to sum would become zeros, so it is an error naming the row; negative values are allowed (they are
    normalised by magnitude) but unlike the paper's features, which a warning says."""
    negative = np.argwhere(matrix < 0)
    if len(negative):
        r, c = negative[0]
        warnings.append(f"{path}, row {table.line_numbers[r]}, column {int(c) + 2}: negative feature value "
                        f"{matrix[r, c]:g} ({len(negative)} in this table); rows are divided by their sum of "
                        f"absolute values, so a row's signs are kept")
    with np.errstate(over="ignore"):
        sums = np.abs(matrix).sum(axis=1)
    overflow = np.flatnonzero(~np.isfinite(sums))
    if len(overflow):
        raise DataError("the row's values are too large to sum (they overflow a float); rescale the table",
                        file=path, row=table.line_numbers[overflow[0]])


def _read_view(path: Path, entity: Entity | None, drugs: list[str], mirnas: list[str],
               warnings: list[str]) -> FeatureView:
    table = read_table(path)
    if len(table.header) < 2:
        raise DataError("a feature table needs a name column and at least one feature column "
                        "(comma, tab or semicolon separated)", file=path, row=1)
    if not table.rows:
        raise DataError("feature table has a header but no rows", file=path)
    keys = [row[0] for row in table.rows]
    seen: dict[str, int] = {}
    for key, line in zip(keys, table.line_numbers, strict=True):
        if not key:
            raise DataError("empty name in the first column", file=path, row=line, column=1)
        if key in seen:
            raise DataError(f"duplicate name {key!r} (also row {seen[key]})", file=path, row=line, column=1)
        seen[key] = line
    entity = entity or _entity_of(path, keys, table.line_numbers, drugs, mirnas)
    names = drugs if entity == "drug" else mirnas
    known = set(names)
    for key, line in zip(keys, table.line_numbers, strict=True):
        if key not in known:
            raise DataError(f"unknown {_WHAT[entity]} {key!r}{did_you_mean(key, names)}",
                            file=path, row=line, column=1)
    missing = [n for n in names if n not in seen]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise DataError(f"has {len(keys)} rows for {len(names)} {_WHAT[entity]}s; no row for {shown}",
                        file=path)
    matrix = parse_numeric_rows(table, first_column=1)
    _check_normalisable(matrix, table, path, warnings)
    position = {key: i for i, key in enumerate(keys)}
    matrix = matrix[[position[n] for n in names]]
    return FeatureView(path.stem, entity, matrix, source=str(path), blob_sha1=file_blob_sha1(path))


def _entity_of(path: Path, keys: list[str], lines: list[int], drugs: list[str], mirnas: list[str]) -> Entity:
    drug_set, mirna_set = set(drugs), set(mirnas)
    all_drugs = all(k in drug_set for k in keys)
    all_mirnas = all(k in mirna_set for k in keys)
    if all_drugs and all_mirnas:
        raise DataError("its names are both drug and miRNA names; move it to features/drug/ or "
                        "features/mirna/", file=path)
    if all_drugs:
        return "drug"
    if all_mirnas:
        return "mirna"
    n_drug = sum(k in drug_set for k in keys)
    n_mirna = sum(k in mirna_set for k in keys)
    names = drugs if n_drug >= n_mirna else mirnas
    key, line = next((k, n) for k, n in zip(keys, lines, strict=True) if k not in set(names))
    kind = "drug" if names is drugs else "miRNA"
    hint = did_you_mean(key, names) if (n_drug or n_mirna) else ""
    raise DataError(f"{key!r} is neither a drug nor a miRNA name{hint}; the first column of a feature table "
                    f"must hold {kind} names (or all of the other kind)", file=path, row=line, column=1)


def _describe_rows(view: FeatureView, warnings: list[str]) -> FeatureView:
    """Note rows that are all zero (they stay zero after row normalisation) or copies of the mean."""
    notes = []
    imputed = int(find_mean_imputed_rows(view.matrix).sum())
    if imputed:
        notes.append(f"{imputed} of {view.shape[0]} rows are the mean of the other rows (imputed)")
    zero = int((~view.matrix.any(axis=1)).sum())
    if zero:
        notes.append(f"{zero} of {view.shape[0]} rows are all zero")
    if not notes:
        return view
    warnings.extend(f"{view.source}: {n}" for n in notes)
    return replace(view, note="; ".join(notes))
