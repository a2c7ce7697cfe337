"""The open benchmark: a protocol's folds exported as plain files, and any tool's scores of them graded.

``export_folds(dataset, cv, path)`` writes what a method in any language needs to be evaluated exactly as
``cross_validate`` evaluates ammgc's own methods::

    path/manifest.json                 dataset name and content hash, protocol and parameters, ammgc version,
                                       the fold ids, and the sha256 of every file below
    path/drugs.csv                     drug,name[,smiles]        one row per drug, in the dataset's order
    path/mirnas.csv                    mirna,name[,sequence]     one row per miRNA, in the dataset's order
    path/<fold-id>/train.csv           drug,mirna                the fold's training pairs
    path/<fold-id>/test.csv            drug,mirna                its held-out pairs
    path/<fold-id>/candidates.csv      drug,mirna                every pair the fold ranks, held-out ones included

Pairs name an entity by its identifier, the first column of drugs.csv / mirnas.csv: its name where no other
entity of the dataset has that name, else ``name#k`` for the k-th of those sharing it in the dataset's order
(the benchmark's two drugs labelled "Rituximab" are ``Rituximab#1`` and ``Rituximab#2``), so every pair
is unambiguous. Fold ids are ``r<repeat>_f<fold>`` as ``Fold.key`` gives them. The same dataset and
splitter give byte-identical files; ``folds_sha256`` in the manifest (a hash of every file's hash) names
the folds whatever the version of ammgc that wrote them.

``grade_predictions(folds, predictions)`` reads ``predictions/<fold-id>/scores.csv`` (``drug,mirna,score``,
one row per candidate pair, any order) and computes each fold's record with ``fold_record``, the code
``cross_validate`` scores a fold with, beside the ``popularity`` references fitted on the exported
training pairs. Every problem in the exported files or the scores is one ``DataError`` naming the file and
row, raised before anything is graded further.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ammgc import methods
from ammgc.data.dataset import Dataset, cell_text
from ammgc.errors import AmmgcError, DataError, DownloadError
from ammgc.evaluation.runner import CVResult, fold_record, run_fold
from ammgc.evaluation.splits import PUBLICATION_SPLITS, Fold, Splitter
from ammgc.io import atomic_write_bytes, ensure_writable_dir

log = logging.getLogger(__name__)

FORMAT = "ammgc-folds"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAIR_FILES = ("train.csv", "test.csv", "candidates.csv")
SCORES = "scores.csv"
#: The methods graded beside a tool's scores, on the same folds.
REFERENCES = ("popularity", "popularity-studies")
#: How many missing pairs an error names.
SHOWN = 5
_FOLD_ID = re.compile(r"^r\d{2,}_f\d{2,}$")
_NAN_SPELLINGS = {"nan", "+nan", "-nan"}


def entity_ids(names: Sequence[str]) -> list[str]:
    """Each entity's identifier in the pair files: its name where unique, else ``name#k`` (k-th of those sharing
    the name, in order), skipping any ``name#k`` that is itself another entity's name."""
    counts = Counter(names)
    taken = set(names)
    seen: Counter[str] = Counter()
    ids = []
    for name in names:
        if counts[name] == 1:
            ids.append(name)
            continue
        while True:
            seen[name] += 1
            candidate = f"{name}#{seen[name]}"
            if candidate not in taken:
                break
        taken.add(candidate)
        ids.append(candidate)
    return ids


def dataset_hash(dataset: Dataset, *, publications: bool) -> str:
    """The sha256 of what a protocol's folds depend on: the association matrix, the drug and miRNA names and,
    with ``publications`` (the study and time splits), the digest of the dataset's publications."""
    associations = np.ascontiguousarray(dataset.associations, dtype=np.uint8)
    digest = None
    if publications:
        if dataset.publications is None:
            raise AmmgcError("the study and time splits need the publication of each association: the benchmark "
                             "carries them; own data needs a pmid (or source and year) column")
        digest = dataset.publications.digest()
    payload = {"shape": list(associations.shape), "associations": hashlib.sha256(associations.tobytes()).hexdigest(),
               "drugs": dataset.drug_names, "mirnas": dataset.mirna_names, "publications": digest}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# --- export -------------------------------------------------------------------------------------------------

def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _entity_table(ids: list[str], table: pd.DataFrame, id_column: str, extra: str) -> bytes:
    frame = pd.DataFrame({id_column: ids, "name": [cell_text(n) for n in table["name"]]})
    if extra in table.columns:
        values = [cell_text(v) for v in table[extra]]
        if any(values):
            frame[extra] = values
    return _csv(frame)


def _pairs(pairs: np.ndarray, drug_ids: np.ndarray, mirna_ids: np.ndarray) -> bytes:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return _csv(pd.DataFrame({"drug": drug_ids[pairs[:, 0]], "mirna": mirna_ids[pairs[:, 1]]}))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folds_digest(files: dict[str, str], folds: list[dict[str, Any]]) -> str:
    """The hash naming the exported folds: of every file's path and sha256, in the manifest's order."""
    lines = [f"{name} {sha}" for name, sha in files.items()]
    lines += [f"{f['id']}/{name} {sha}" for f in folds for name, sha in f["files"].items()]
    return _sha256("\n".join(lines).encode())


def export_folds(dataset: Dataset, cv: Splitter, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the folds of ``cv`` on ``dataset`` to the folder ``path`` (the layout in this module's docstring)
    and return the manifest.

    The folder appears complete or not at all: the files are written to a temporary folder beside it, which
    is then renamed. ``path`` may be missing or empty; a folder holding anything else is left as it is, and
    is an error unless it holds this very export (then nothing is written). Study and time splits need the
    dataset's publications (the benchmark's come from ncDR).
    """
    from ammgc import __version__

    if not isinstance(cv, Splitter):
        raise AmmgcError(f"cv must be a splitter (PairSplit, StudySplit, TimeSplit, ColdStartSplit), not "
                         f"{type(cv).__name__}")
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise AmmgcError(f"{target} is a file; the folds are written to a folder")
    existing = target.is_dir() and any(target.iterdir())
    if existing and not (target / MANIFEST).is_file():
        raise AmmgcError(f"{target} is not empty and holds no exported folds; choose another folder or empty it")
    if cv.needs_publications:
        dataset = dataset.with_publications()
    parent = ensure_writable_dir(target.absolute().parent)
    # mkdir, not mkdtemp: the folder gets the mode a plain mkdir gives (mkdtemp's is private to its owner)
    staging = parent / f".{target.name}.{secrets.token_hex(4)}.part"
    staging.mkdir()
    try:
        drug_ids = entity_ids(dataset.drug_names)
        mirna_ids = entity_ids(dataset.mirna_names)
        files = {"drugs.csv": _entity_table(drug_ids, dataset.drugs, "drug", "smiles"),
                 "mirnas.csv": _entity_table(mirna_ids, dataset.mirnas, "mirna", "sequence")}
        hashes = {}
        for name, data in files.items():
            atomic_write_bytes(staging / name, data)
            hashes[name] = _sha256(data)
        drugs, mirnas = np.asarray(drug_ids, dtype=object), np.asarray(mirna_ids, dtype=object)
        records = []
        for fold in cv.split(dataset):  # a protocol the dataset cannot fill fails at the first fold
            contents = {"train.csv": _pairs(np.argwhere(fold.train == 1), drugs, mirnas),
                        "test.csv": _pairs(fold.candidates[fold.labels == 1], drugs, mirnas),
                        "candidates.csv": _pairs(fold.candidates, drugs, mirnas)}
            for name, data in contents.items():
                atomic_write_bytes(staging / fold.key / name, data)
            records.append({"id": fold.key, "repeat": fold.repeat, "fold": fold.fold,
                            "train": int(np.count_nonzero(fold.train)), "test": int(fold.labels.sum()),
                            "candidates": len(fold.candidates),
                            "files": {name: _sha256(data) for name, data in contents.items()}})
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "ammgc": __version__,
            "dataset": {"name": dataset.name, "sha256": dataset_hash(dataset, publications=cv.needs_publications),
                        "drugs": dataset.n_drugs, "mirnas": dataset.n_mirnas, "associations": dataset.n_associations},
            "protocol": json.loads(json.dumps(cv.params())),
            "pairs": "drug and mirna name an entity by the first column of drugs.csv / mirnas.csv: its name, or "
                     "name#k for the k-th of several entities sharing that name",
            "files": hashes,
            "folds_sha256": folds_digest(hashes, records),
            "folds": records,
        }
        text = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
        atomic_write_bytes(staging / MANIFEST, text)
        if existing:
            if (target / MANIFEST).read_bytes() != text:
                raise AmmgcError(f"{target} holds a different export of folds (its {MANIFEST} differs); choose "
                                 f"another folder or remove it")
            read_export(target).verify()  # the same manifest: its files must be intact too
            log.info("%s already holds these folds; nothing was written", target)
            return manifest
        if target.is_dir():
            target.rmdir()  # empty (checked above): the finished folder takes its place
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


# --- reading an export --------------------------------------------------------------------------------------

def _read_csv(data: bytes, path: Path, columns: Sequence[str], *, exact: bool = True) -> pd.DataFrame:
    """A comma-separated table as strings (cells stripped); its header must hold ``columns`` (exactly, or among
    others); a short row's missing cells are empty."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"empty; expected a header {','.join(columns)}", file=path, row=1) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"not a comma-separated table ({str(exc).strip()})", file=path) from None
    header = [str(c).strip() for c in frame.columns]
    unexpected = [c for c in header if c not in columns]
    missing = [c for c in columns if c not in header]
    if missing or (exact and unexpected) or len(set(header)) != len(header):
        raise DataError(f"the header is {','.join(header)}; expected {','.join(columns)}", file=path, row=1)
    # a list comprehension strips twice as fast as the string accessor on these 80,000-row files
    return pd.DataFrame({name: [cell.strip() for cell in frame.iloc[:, i].tolist()]
                         for i, name in enumerate(header)}, dtype=str)


@dataclass
class ExportedFold:
    """One fold of an export as ``cross_validate`` ranks it, with the codes (drug x q + miRNA) of its pairs."""

    id: str
    fold: Fold
    train_codes: np.ndarray
    candidate_codes: np.ndarray


@dataclass
class Export:
    """An export's manifest, identifiers and folds, read back; ``fold(id)`` reads and checks one fold."""

    path: Path
    manifest: dict[str, Any]
    drug_ids: list[str]
    mirna_ids: list[str]
    drugs: pd.DataFrame
    mirnas: pd.DataFrame

    @cached_property
    def _drug_index(self) -> pd.Index:
        return pd.Index(self.drug_ids)

    @cached_property
    def _mirna_index(self) -> pd.Index:
        return pd.Index(self.mirna_ids)

    @property
    def fold_ids(self) -> list[str]:
        return [f["id"] for f in self.manifest["folds"]]

    @property
    def protocol(self) -> dict[str, Any]:
        return dict(self.manifest["protocol"])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.drug_ids), len(self.mirna_ids)

    def _codes(self, frame: pd.DataFrame, path: Path) -> np.ndarray:
        """Each row's pair as drug x q + miRNA; an unknown identifier is an error naming its row."""
        drugs = self._drug_index.get_indexer(frame["drug"])
        mirnas = self._mirna_index.get_indexer(frame["mirna"])
        for column, found, ids, table in (("drug", drugs, self.drug_ids, "drugs.csv"),
                                          ("mirna", mirnas, self.mirna_ids, "mirnas.csv")):
            if (found < 0).any():
                row = int(np.flatnonzero(found < 0)[0])
                raise DataError(_unknown(str(frame[column].iloc[row]), column, ids, table), file=path, row=row + 2)
        return drugs.astype(np.int64) * len(self.mirna_ids) + mirnas

    def pair_name(self, code: int) -> str:
        d, m = divmod(int(code), len(self.mirna_ids))
        return f"({self.drug_ids[d]}, {self.mirna_ids[m]})"

    def _entry(self, fold_id: str) -> dict[str, Any]:
        for entry in self.manifest["folds"]:
            if entry["id"] == fold_id:
                return entry
        raise AmmgcError(f"{self.path} has no fold {fold_id!r}; its folds: {_ids_text(self.fold_ids)}")

    def fold(self, fold_id: str) -> ExportedFold:
        """The fold's files read, checked (no training pair among the held-out ones or the candidates, every
        held-out pair a candidate, no duplicate) and matched against the manifest's hashes."""
        entry = self._entry(fold_id)
        folder = self.path / fold_id
        codes = {}
        for name in PAIR_FILES:
            path = folder / name
            data = _read_bytes(path, "an exported fold file")
            frame = _read_csv(data, path, ("drug", "mirna"))
            codes[name] = self._codes(frame, path)
            _no_duplicates(codes[name], path, self)
            if _sha256(data) != entry["files"].get(name):
                raise DataError(f"the file's sha256 is not the one {MANIFEST} records for it: the exported folds "
                                f"were changed after export; export them again", file=path)
        train, test, candidates = (codes[n] for n in PAIR_FILES)
        _disjoint(train, test, folder / "train.csv", "a held-out pair (test.csv)", self)
        _disjoint(train, candidates, folder / "train.csv", "a candidate pair (candidates.csv)", self)
        missing = ~np.isin(test, candidates)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise DataError(f"the held-out pair {self.pair_name(test[row])} is not among the candidates "
                            f"(candidates.csv): the fold would not rank it", file=folder / "test.csv", row=row + 2)
        p, q = self.shape
        matrix = np.zeros(p * q, dtype=np.uint8)
        matrix[train] = 1
        labels = np.isin(candidates, test).astype(np.int8)
        pairs = np.stack(np.divmod(candidates, q), axis=1)
        held = np.stack(np.divmod(test, q), axis=1)
        return ExportedFold(fold_id, Fold(int(entry["repeat"]), int(entry["fold"]), matrix.reshape(p, q), pairs,
                                          labels, held), train, candidates)

    def verify(self) -> None:
        """Read and check every fold (``fold``)."""
        for fold_id in self.fold_ids:
            self.fold(fold_id)


def _read_bytes(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise DataError(f"not found ({what})", file=path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror or exc}", file=path) from None


def _unknown(name: str, column: str, ids: list[str], table: str) -> str:
    what = "drug" if column == "drug" else "miRNA"
    sharing = [i for i in ids if i.rsplit("#", 1)[0] == name and i != name]
    if sharing:
        return (f"unknown {what} {name!r}: {len(sharing)} {what}s of the dataset share that name; name them as "
                f"{table}'s {column} column does ({', '.join(sharing)})")
    from ammgc.data.validation import did_you_mean

    return f"unknown {what} {name!r}{did_you_mean(name, ids)}; the {what}s are the {column} column of {table}"


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def _ids_text(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 6 else f"{', '.join(ids[:3])}, ..., {ids[-1]} ({len(ids)} folds)"


def _no_duplicates(codes: np.ndarray, path: Path, export: Export) -> None:
    duplicated = pd.Series(codes).duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        first = int(np.flatnonzero(codes == codes[row])[0])
        raise DataError(f"duplicate pair {export.pair_name(codes[row])}, first at row {first + 2}", file=path,
                        row=row + 2)


def _disjoint(train: np.ndarray, other: np.ndarray, path: Path, what: str, export: Export) -> None:
    shared = np.isin(train, other)
    if shared.any():
        row = int(np.flatnonzero(shared)[0])
        raise DataError(f"the training pair {export.pair_name(train[row])} is also {what}: the exported folds were "
                        f"changed after export; export them again", file=path, row=row + 2)


def _manifest_error(path: Path, problem: str) -> DataError:
    return DataError(f"{problem}; this is not a folder `export_folds` wrote", file=path)


def read_export(path: str | os.PathLike[str]) -> Export:
    """An export's manifest, drugs.csv and mirnas.csv, checked against each other (folds are read by
    ``Export.fold``)."""
    root = Path(path)
    if not root.is_dir():
        raise DataError("not found: expected a folder of exported folds", file=root)
    manifest_path = root / MANIFEST
    data = _read_bytes(manifest_path, "the manifest of exported folds")
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _manifest_error(manifest_path, f"not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _manifest_error(manifest_path, f"no \"format\": \"{FORMAT}\" entry")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _manifest_error(manifest_path, f"format version {manifest.get('format_version')!r}, this ammgc "
                                             f"reads version {FORMAT_VERSION}")
    folds = manifest.get("folds")
    for key, kind in (("dataset", dict), ("protocol", dict), ("files", dict), ("folds", list),
                      ("folds_sha256", str)):
        if not isinstance(manifest.get(key), kind):
            raise _manifest_error(manifest_path, f"no {key!r} entry")
    ids = []
    for k, entry in enumerate(folds):
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str) and _FOLD_ID.match(entry["id"])
                and isinstance(entry.get("files"), dict) and isinstance(entry.get("repeat"), int)
                and isinstance(entry.get("fold"), int)):
            raise _manifest_error(manifest_path, f"fold entry {k} is not a fold record (id, repeat, fold, files)")
        ids.append(entry["id"])
    if not ids or len(set(ids)) != len(ids):
        raise _manifest_error(manifest_path, "the fold ids are missing or repeated")
    if folds_digest(manifest["files"], folds) != manifest["folds_sha256"]:
        raise DataError("the file hashes it records do not give its folds_sha256: the manifest was changed after "
                        "export; export the folds again", file=manifest_path)
    tables = {}
    for name, id_column in (("drugs.csv", "drug"), ("mirnas.csv", "mirna")):
        table_path = root / name
        raw = _read_bytes(table_path, "part of the exported folds")
        if _sha256(raw) != manifest["files"].get(name):
            raise DataError(f"the file's sha256 is not the one {MANIFEST} records for it: the exported folds were "
                            f"changed after export; export them again", file=table_path)
        tables[name] = _read_csv(raw, table_path, (id_column, "name"), exact=False)
        repeated = tables[name][id_column].duplicated()
        if repeated.any():
            row = int(np.flatnonzero(repeated.to_numpy())[0])
            raise DataError(f"the {id_column} {tables[name][id_column].iloc[row]!r} is listed twice: the exported "
                            f"folds were changed after export; export them again", file=table_path, row=row + 2)
    drug_ids = tables["drugs.csv"]["drug"].tolist()
    mirna_ids = tables["mirnas.csv"]["mirna"].tolist()
    return Export(root, manifest, drug_ids, mirna_ids, tables["drugs.csv"], tables["mirnas.csv"])


# --- grading ------------------------------------------------------------------------------------------------

def check_prediction_folders(export: Export, predictions: Path) -> None:
    """Every fold of the export has ``<fold-id>/scores.csv`` under ``predictions``, and no other folder is there."""
    if not predictions.is_dir():
        raise DataError("not found: expected a folder with <fold-id>/scores.csv for every exported fold",
                        file=predictions)
    ids = export.fold_ids
    extra = sorted(p.name for p in predictions.iterdir() if p.is_dir() and not p.name.startswith(".")
                   and p.name not in ids)
    if extra:
        raise DataError(f"{extra[0]}/ is no fold of the export {export.path} (its folds: {_ids_text(ids)}); "
                        f"predictions hold exactly one folder per exported fold", file=predictions)
    missing = [i for i in ids if not (predictions / i / SCORES).is_file()]
    if missing:
        raise DataError(f"{len(missing)} of the {len(ids)} exported folds {_have(len(missing))} no {SCORES}: "
                        f"{_ids_text(missing)}; every fold of {export.path} needs its scores",
                        file=predictions / missing[0] / SCORES)


def read_scores(path: Path, export: Export, fold: ExportedFold) -> np.ndarray:
    """``path``'s scores in the order of the fold's candidates; every problem is one error naming the row."""
    frame = _read_csv(_read_bytes(path, "the scores of a fold"), path, ("drug", "mirna", "score"))
    codes = export._codes(frame, path)
    text = frame["score"]
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raw = text.iloc[row]
        problem = ("is empty" if not raw else "is NaN" if raw.lower() in _NAN_SPELLINGS
                   else "is infinite" if np.isinf(values[row]) else "is not a number")
        raise DataError(f"the score {raw!r} of {export.pair_name(codes[row])} {problem}; every score must be a "
                        f"finite number", file=path, row=row + 2)
    _no_duplicates(codes, path, export)
    candidates = fold.candidate_codes
    order = np.argsort(candidates, kind="stable")
    position = np.searchsorted(candidates[order], codes)
    stray = (position >= len(candidates)) | (candidates[order][np.minimum(position, len(candidates) - 1)] != codes)
    if stray.any():
        row = int(np.flatnonzero(stray)[0])
        why = ("a training pair of the fold (train.csv)" if np.isin(codes[row], fold.train_codes)
               else "not a pair the fold ranks")
        raise DataError(f"{export.pair_name(codes[row])} is no candidate of fold {fold.id}: {why}; score exactly "
                        f"the pairs of {export.path / fold.id / 'candidates.csv'}", file=path, row=row + 2)
    if len(codes) < len(candidates):
        absent = candidates[~np.isin(candidates, codes)]
        shown = ", ".join(export.pair_name(c) for c in absent[:SHOWN])
        raise DataError(f"{len(absent)} of the {len(candidates)} candidate pairs of fold {fold.id} "
                        f"{_have(len(absent))} no score ({shown}{', ...' if len(absent) > SHOWN else ''}); score "
                        f"every pair of {export.path / fold.id / 'candidates.csv'}", file=path)
    by_code = np.argsort(codes, kind="stable")
    return values[by_code[np.searchsorted(codes[by_code], candidates)]]


@dataclass
class Grade:
    """The graded scores (``result``, a ``CVResult`` like ``cross_validate``'s) and each reference method's
    result on the same folds, with the export they were graded on."""

    result: CVResult
    references: dict[str, CVResult]
    export: Export
    dataset_hash: str | None


def _checked_dataset(export: Export, dataset: Dataset) -> tuple[Dataset, str]:
    """The dataset the folds came from (publications attached where the protocol reads them), or an error."""
    publications = export.protocol.get("split") in PUBLICATION_SPLITS
    if publications:
        dataset = dataset.with_publications()
    given = dataset_hash(dataset, publications=publications)
    recorded = export.manifest["dataset"]
    if given != recorded.get("sha256"):
        raise DataError(f"the folds were exported from the dataset {recorded.get('name')!r} (sha256 "
                        f"{str(recorded.get('sha256'))[:16]}...), the dataset given ({dataset.name!r}, "
                        f"{dataset.source or 'no source'}) has sha256 {given[:16]}...: grade against the dataset "
                        f"the folds came from", file=export.path / MANIFEST)
    return dataset, given


def _export_dataset(export: Export, fold: Fold) -> Dataset:
    """A dataset of the export's entities whose known pairs are the fold's training and held-out pairs: what the
    degree references read when no dataset is given."""
    known = fold.train.copy()
    known[fold.held_out[:, 0], fold.held_out[:, 1]] = 1
    drugs = pd.DataFrame({"name": export.drug_ids})
    mirnas = pd.DataFrame({"name": export.mirna_ids})
    return Dataset(known, drugs, mirnas, source=str(export.path), name=str(export.manifest["dataset"].get("name")))


def grade_predictions(folds: str | os.PathLike[str], predictions: str | os.PathLike[str], *,
                      dataset: Dataset | None = None, label: str = "predictions",
                      references: Sequence[str] = REFERENCES) -> Grade:
    """Grade ``predictions/<fold-id>/scores.csv`` on the folds exported to ``folds``, fold by fold with the code
    of ``cross_validate``, beside ``references`` (method names) fitted on each fold's training pairs.

    With ``dataset`` (the one the folds were exported from; its hash must match the manifest's) the references
    see it as ``cross_validate`` does; those needing publications the dataset lacks are left out with a logged
    note. Without it, the references read the exported pairs only, so those needing publications are left out.
    """
    export = read_export(folds)
    predictions = Path(predictions)
    check_prediction_folders(export, predictions)
    checked_hash = None
    if dataset is not None:
        dataset, checked_hash = _checked_dataset(export, dataset)
    # each reference with the dataset it reads (None: each fold's exported pairs), prepared once as cross_validate
    # prepares it
    compared: dict[str, tuple[Any, Dataset | None]] = {}
    for name in references:
        method = methods.get(name)
        if dataset is None:
            if methods.publications_use(method) == "required":
                log.info("%s left out: it counts publications, which only the dataset has", name)
                continue
            compared[name] = (method, None)
            continue
        try:
            compared[name] = (method, methods.prepare(method, dataset))
        except (DataError, DownloadError) as exc:
            log.info("%s left out: %s", name, exc)
    protocol = export.protocol
    split = str(protocol.get("split"))
    seed = int(protocol.get("seed", 0))
    records: list[dict[str, Any]] = []
    reference_records: dict[str, list[dict[str, Any]]] = {name: [] for name in compared}
    for fold_id in export.fold_ids:
        exported = export.fold(fold_id)
        y_score = read_scores(predictions / fold_id / SCORES, export, exported)
        records.append(fold_record(exported.fold, y_score, seconds=float("nan")))
        for name, (method, data) in compared.items():
            data = data if data is not None else _export_dataset(export, exported.fold)
            reference_records[name].append(run_fold(method, data, exported.fold, seed))
    result = CVResult(method=label, config={}, split=split, folds=records, cv=protocol)
    refs = {name: CVResult(method=methods.registered_name(method), config=methods.params_of(method), split=split,
                           folds=reference_records[name], cv=protocol) for name, (method, _) in compared.items()}
    return Grade(result, refs, export, checked_hash)
