"""New drugs and miRNAs as users give them: a name with a SMILES or a sequence, on the command line or in a
CSV; checked before any work (names clash with no known one, SMILES and sequences are readable)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ammgc.errors import AmmgcError, DataError


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
            raise AmmgcError(f"new {what} {name!r} is already in the model as {known_keys[key]!r}; "
                             f"use --{'drug' if what == 'drug' else 'mirna'} {known_keys[key]!r} to rank it")
        if key in seen:
            raise AmmgcError(f"new {what} {name!r} is given twice")
        seen.add(key)


def sequence_note(mirna: NewMirna, catalogue: Any) -> str:
    """Say whether a new miRNA's sequence was read as mature (inside stem-loops) or aligned as given."""
    from ammgc.features.names import clean_sequence

    seq = clean_sequence(mirna.sequence, what=f"miRNA {mirna.name!r}")
    hosts = [c for c, s in zip(catalogue.columns, catalogue.column_sequences, strict=True)
             if seq in s and len(s) > len(seq)]
    if hosts:
        shown = ", ".join(hosts[:4]) + (", ..." if len(hosts) > 4 else "")
        return (f"{mirna.name}: {len(seq)}-nt sequence found inside {len(hosts)} human stem-loop(s) ({shown}); "
                f"read as a mature miRNA: its sequence row is the mean of theirs")
    return f"{mirna.name}: {len(seq)}-nt sequence read as a stem-loop and aligned as given"


# --- view provenance --------------------------------------------------------------------------------


def pair_up(names: Sequence[str], values: Sequence[str], *, name_option: str,
            value_option: str) -> list[tuple[str, str]]:
    """Pair repeated ``--new-drug NAME`` with ``--smiles S`` (or miRNA / sequence) in the order given."""
    if len(names) != len(values):
        raise AmmgcError(f"{len(names)} {name_option} but {len(values)} {value_option}: give one "
                         f"{value_option} for each {name_option}, in the same order")
    return list(zip(names, values, strict=True))


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
    from ammgc.features.names import clean_sequence

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
