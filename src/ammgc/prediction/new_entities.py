"""New drugs and miRNAs: as users give them (a name with a SMILES or a sequence, on the command line or in a
CSV; checked before any work: names clash with no known one, SMILES and sequences are readable), and entering
a fitted AMMGC as new nodes (``extend``).

A new drug (or miRNA) enters the graph as a node without edges, carrying the views it can get: the
SMILES-derived drug views; the ``sequence`` view of a miRNA sequence and, for miRNA views that cannot be
computed from a sequence (expression, GO), the mean row of the training miRNAs (the paper's rule for missing
features). Its embeddings are the frozen encoders' (``AMMGC.embed_new``); the attention coefficients
g^u = W_u E^u + b_u have W_u sized to the training nodes, so new nodes are weighted by the coefficients
computed from the training nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.models.ammgc import AMMGC


@dataclass(frozen=True)
class NewDrug:
    name: str
    smiles: str


@dataclass(frozen=True)
class NewMirna:
    name: str
    sequence: str


def check_new_names(new: list[str], known: list[str], what: str) -> None:
    known_keys = {k.strip().lower(): k for k in known}
    seen: set[str] = set()
    for name in new:
        key = name.strip().lower()
        if not key:
            raise AmmgcError(f"a new {what} needs a name")
        if key in known_keys:
            raise AmmgcError(f"new {what} {name!r} is already in the model as {known_keys[key]!r}; rank it by that "
                             f"name as a known {what}")
        if key in seen:
            raise AmmgcError(f"new {what} {name!r} is given twice")
        seen.add(key)


def sequence_note(mirna: NewMirna, catalogue: Any) -> str:
    """Say whether a new miRNA's sequence was read as mature (inside stem-loops) or aligned as given."""
    from ammgc.data.mirbase import clean_sequence

    seq = clean_sequence(mirna.sequence, what=f"miRNA {mirna.name!r}")
    hosts = [c for c, s in zip(catalogue.columns, catalogue.column_sequences, strict=True)
             if seq in s and len(s) > len(seq)]
    if hosts:
        shown = ", ".join(hosts[:4]) + (", ..." if len(hosts) > 4 else "")
        return (f"{mirna.name}: {len(seq)}-nt sequence found inside {len(hosts)} human stem-loop(s) ({shown}); "
                f"read as a mature miRNA: its sequence row is the mean of theirs")
    return f"{mirna.name}: {len(seq)}-nt sequence read as a stem-loop and aligned as given"


def new_drugs(pairs: Iterable[tuple[str, str]] = (), file: Path | None = None) -> list[NewDrug]:
    """New drugs from name/SMILES pairs and a CSV with columns name, smiles; every SMILES is checked."""
    from ammgc.features.drug import parse_smiles

    out = [NewDrug(n.strip(), s.strip()) for n, s in pairs]
    for drug in out:
        parse_smiles(drug.smiles, drug.name)
    if file is not None:
        for name, smiles, line in _read_pairs(file, "smiles", "drug"):
            try:
                parse_smiles(smiles, name)
            except DataError as exc:
                raise DataError(exc.problem, file=file, row=line) from None
            out.append(NewDrug(name, smiles))
    return out


def new_mirnas(pairs: Iterable[tuple[str, str]] = (), file: Path | None = None) -> list[NewMirna]:
    """New miRNAs from name/sequence pairs and a CSV with columns name, sequence; sequences are checked."""
    from ammgc.data.mirbase import clean_sequence

    out = [NewMirna(n.strip(), s.strip()) for n, s in pairs]
    for mirna in out:
        clean_sequence(mirna.sequence, what=f"miRNA {mirna.name!r}")
    if file is not None:
        for name, sequence, line in _read_pairs(file, "sequence", "miRNA"):
            try:
                clean_sequence(sequence, what=f"miRNA {name!r}")
            except DataError as exc:
                raise DataError(exc.problem, file=file, row=line) from None
            out.append(NewMirna(name, sequence))
    return out


def _read_pairs(path: Path, column: str, what: str) -> list[tuple[str, str, int]]:
    from ammgc.data.validation import read_table

    if not Path(path).is_file():
        raise DataError("no such file", file=path)
    table = read_table(path)
    name_col, value_col = table.column("name"), table.column(column)
    if name_col is None or value_col is None:
        raise DataError(f"a new-{what} table needs columns name,{column}; the header is "
                        f"{table.delimiter.join(table.header)!r}", file=path, row=1)
    if not table.rows:
        raise DataError(f"lists no {what}s", file=path)
    out = []
    for row, line in zip(table.rows, table.line_numbers, strict=True):
        if not row[name_col]:
            raise DataError(f"empty {what} name", file=path, row=line)
        out.append((row[name_col], row[value_col], line))
    return out


# --- ranking ----------------------------------------------------------------------------------------


# --- new nodes of a fitted model ---------------------------------------------------------------------------


@dataclass
class Extended:
    """The model's training dataset extended with new drugs / miRNAs (rows and columns appended, no known
    association) and the score matrix over all of it."""

    dataset: Dataset
    scores: np.ndarray
    new_drugs: list[int]
    new_mirnas: list[int]
    notes: list[str]
    # the new entities' raw view rows and every node's fused embedding: what explanations read
    drug_rows: dict[str, np.ndarray] = field(default_factory=dict)
    mirna_rows: dict[str, np.ndarray] = field(default_factory=dict)
    drug_z: np.ndarray | None = None
    mirna_z: np.ndarray | None = None


def check_dataset(model: AMMGC, dataset: Dataset) -> None:
    """Refuse a dataset other than the one the model was trained on (names and associations)."""
    trained = model.dataset_
    if dataset.drug_names != trained.drug_names or dataset.mirna_names != trained.mirna_names:
        raise AmmgcError(f"the model was trained on other drugs/miRNAs ({model.n_drugs_} x {model.n_mirnas_}, "
                         f"{trained.source or '?'}) than {dataset.source} has ({dataset.n_drugs} x "
                         f"{dataset.n_mirnas}); give the model's training data, or retrain")
    if not np.array_equal(dataset.associations, model.train_):
        raise AmmgcError(f"the associations of {dataset.source} differ from those the model was trained on; give "
                         f"the model's training data, or retrain")


def new_drug_rows(model: AMMGC, drugs: Sequence[NewDrug]) -> dict[str, np.ndarray]:
    """Raw drug view rows of new drugs, computed from their SMILES like the training drugs' views, one row
    per molecule however it is written (``ammgc.features.drug.new_drug_views``)."""
    from ammgc.features import SMILES_KEY
    from ammgc.features.drug import new_drug_views

    _check_features_for_new(model, "drug")
    not_computable = [v for v in model.drug_views if v not in SMILES_KEY]
    if not_computable:
        raise AmmgcError(f"the model uses drug view(s) {not_computable}, which cannot be computed from a SMILES; "
                         f"train with drug_features='smiles' to predict for new drugs")
    computed = new_drug_views([d.smiles for d in drugs], [d.name for d in drugs], _known_smiles(model))
    return {v: computed[SMILES_KEY[v]].astype(np.float64) for v in model.drug_views}


def _known_smiles(model: AMMGC) -> list[str]:
    from ammgc.data.dataset import cell_text

    drugs = model.dataset_.drugs
    return [cell_text(s) for s in drugs["smiles"]] if "smiles" in drugs else []


def new_mirna_rows(model: AMMGC, mirnas: Sequence[NewMirna]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Raw miRNA view rows of new miRNAs, and notes on how each view was filled."""
    from ammgc.data.mirbase import clean_sequence
    from ammgc.features import mirna_sequence_row

    _check_features_for_new(model, "mirna")
    for m in mirnas:
        clean_sequence(m.sequence, what=f"miRNA {m.name!r}")
    rows: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for view in model.mirna_views:
        if view == "sequence":
            catalogue = _matching_catalogue(model)
            rows[view] = np.vstack([mirna_sequence_row(m.sequence) for m in mirnas])
            notes.extend(sequence_note(m, catalogue) for m in mirnas)
        else:
            rows[view] = np.tile(model.mirna_means_[view], (len(mirnas), 1))
            notes.append(f"miRNA view {view!r} cannot be computed from a sequence: new miRNAs get the mean row of "
                         f"the {model.n_mirnas_} training miRNAs")
    if "sequence" not in model.mirna_views:
        notes.append("the model has no sequence-derived miRNA view: every new miRNA gets the same features and the "
                     "same scores")
    return rows, notes


def _check_features_for_new(model: AMMGC, entity: str) -> None:
    if model.config.node_features == "onehot":
        raise AmmgcError(f"this model was trained with one-hot node features (node_features='onehot'); a new "
                         f"{entity} has no feature to enter the graph with")


def _matching_catalogue(model: AMMGC) -> Any:
    """The miRBase catalogue at hand, refused when its stem-loops differ from those the model's ``sequence`` view
    has as columns (a new miRNA's row would not line up with the training ones)."""
    from ammgc.features.mirna import columns_sha256, load_catalogue

    catalogue = load_catalogue()
    records = model.view_records_ or {}
    want = records.get("sequence", {}).get("mirbase", {})
    have = columns_sha256(catalogue.columns, catalogue.column_sequences)
    if want and want.get("columns_sha256") != have:
        raise AmmgcError(f"the miRBase files in {catalogue.directory} (release {catalogue.current.label}, "
                         f"{len(catalogue.columns)} human stem-loops) differ from those the model was trained with "
                         f"(release {want.get('current_release')}, {want.get('human_stem_loops')} stem-loops); "
                         f"give the same miRBase files")
    return catalogue


def extend(model: AMMGC, new_drugs: Sequence[NewDrug] = (), new_mirnas: Sequence[NewMirna] = ()) -> Extended:
    """The model's dataset with new drugs and miRNAs appended, and the scores of every pair of the result."""
    check_new_names([d.name for d in new_drugs], model.dataset_.drug_names, "drug")
    check_new_names([m.name for m in new_mirnas], model.dataset_.mirna_names, "miRNA")
    notes: list[str] = []
    drug_rows = new_drug_rows(model, new_drugs) if new_drugs else {}
    mirna_rows: dict[str, np.ndarray] = {}
    if new_mirnas:
        mirna_rows, notes = new_mirna_rows(model, new_mirnas)
    if new_drugs:
        from ammgc.features.drug import same_molecules

        notes.append(f"new drugs: drug views {', '.join(model.drug_views)} computed from SMILES; attention "
                     f"coefficients as trained (from the training nodes)")
        known = model.dataset_.drug_names
        for drug, k in zip(new_drugs, same_molecules([d.smiles for d in new_drugs], [d.name for d in new_drugs],
                                                     _known_smiles(model)), strict=True):
            if k is not None:
                notes.append(f"new drug {drug.name} is the same molecule as the known drug {known[k]}: it gets "
                             f"{known[k]}'s SMILES code, but not its associations")
    drugs = _append(model.dataset_.drugs, {"name": [d.name for d in new_drugs],
                                           "smiles": [d.smiles for d in new_drugs]})
    mirnas = _append(model.dataset_.mirnas, {"name": [m.name for m in new_mirnas],
                                             "sequence": [m.sequence for m in new_mirnas]})
    return extend_rows(model, drugs, drug_rows, mirnas, mirna_rows, notes)


def extend_rows(model: AMMGC, drugs: pd.DataFrame, drug_rows: dict[str, np.ndarray], mirnas: pd.DataFrame,
                mirna_rows: dict[str, np.ndarray], notes: Sequence[str] = ()) -> Extended:
    """``extend`` from the new entities' view rows: ``drugs`` / ``mirnas`` are the model's tables with the new
    entities appended, ``drug_rows`` / ``mirna_rows`` their rows of each of the model's views."""
    drug_z, mirna_z = model.extended_embeddings(drug_rows, mirna_rows)
    scores = model.pair_scores(drug_z, mirna_z)
    p, q = model.n_drugs_, model.n_mirnas_
    scores[:p, :q] = model.predict_scores()
    associations = np.zeros(scores.shape, dtype=np.uint8)
    associations[:p, :q] = model.train_
    trained = model.dataset_
    dataset = Dataset(associations, drugs, mirnas, {}, source=trained.source, name=trained.name)
    return Extended(dataset, scores, list(range(p, len(drugs))), list(range(q, len(mirnas))), list(notes),
                    drug_rows, mirna_rows, drug_z, mirna_z)


def _append(table: pd.DataFrame, rows: dict[str, list[str]]) -> pd.DataFrame:
    """``table`` with new rows; columns the rows do not give are empty strings."""
    n = len(rows["name"])
    columns = list(dict.fromkeys([*table.columns, *rows]))
    new = pd.DataFrame({c: rows.get(c, [""] * n) for c in columns})
    old = pd.DataFrame({c: list(table[c]) if c in table else [""] * len(table) for c in columns})
    return pd.concat([old, new], ignore_index=True)
