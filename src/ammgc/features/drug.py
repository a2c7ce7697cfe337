"""Drug views computed from SMILES: the PubChem substructure fingerprint and the SMILES label encoding.

Both are laid out exactly like the benchmark's own files, so a new drug lives in the benchmark's
feature space:

* ``fingerprint`` (920 columns). PubChem's fingerprint format is a 32-bit big-endian length prefix
  (the number 881), the 881 substructure bits, and 7 padding bits to a whole byte: 32 + 881 + 7 = 920.
  ``features/drug_feature_matrix.txt`` is exactly that (columns 0-31 hold the bits of 881 in every row,
  columns 913-919 are zero), and its columns 32-912 agree 98.6% with the 881 PubChem bits that
  scikit-fingerprints (RDKit underneath) computes from the drug table's SMILES.
* ``smiles_code`` (85 columns). Each SMILES character becomes an integer code, truncated or
  zero-padded to 85 (DeepDTA's scheme, Öztürk et al. 2018). The code table is not DeepDTA's: it was
  recovered from the shipped ``features/drug_labelencoding.txt`` (see ``recover_label_table``), whose
  rows were encoded from PubChem canonical SMILES (Kekulé form, no stereo marks), which differ from
  the drug table's SMILES for most drugs.

Multi-fragment SMILES (salts, metal complexes) are kept whole, as PubChem fingerprints the whole
record: on the 8 multi-fragment benchmark drugs the whole-molecule bits agree with the shipped
fingerprint better than the largest fragment's do, every time.

One molecule, one row. Every SMILES is canonicalised with RDKit (``canonical_molecule``: the molecule
re-read from its canonical SMILES, all fragments kept) before it is fingerprinted, so the same molecule
written in another atom order, or in Kekulé rather than aromatic form, gets the same bits; on the 106
benchmark drugs this changes no bit. The label encoding is of a string, not of a molecule, so it needs
one string per molecule: a dataset's drugs are encoded as the dataset writes them (the benchmark's
shipped encoding was made that way, and its numbers stay as they are), and a new drug is encoded in one
form of its molecule (``new_drug_views``): the training drug's own SMILES where the new drug is the same
molecule as a training drug, otherwise RDKit's canonical SMILES written as the table's source wrote its
strings (Kekulé, no stereo marks). Two SMILES of one new molecule thus give identical rows, and so
identical scores.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ammgc.errors import DataError
from ammgc.io import atomic_open
from ammgc.sigint import reinstating_sigint, run_shielded

PUBCHEM_BITS = 881
PREFIX_BITS = 32
FINGERPRINT_WIDTH = 920  # 32-bit length prefix + 881 bits + 7 padding bits (PubChem's format)
SMILES_CODE_LENGTH = 85

# Recovered from the shipped label encoding (rows that agree with the drug table's SMILES), plus
# 't' (code 34, seen after P's 30 exactly where the platinum drugs have "Pt") and '9' (digits map
# to themselves; code 9 occurs in the matrix). Padding is 0.
LABEL_TABLE: dict[str, int] = {
    **{str(d): d for d in range(1, 10)},
    "-": 10, "#": 11, "(": 12, ")": 13, ".": 14, "[": 15, "]": 16, "+": 17, "=": 18,
    "A": 19, "B": 20, "C": 21, "F": 22, "H": 23, "I": 24, "i": 25, "l": 26, "L": 27,
    "N": 28, "O": 29, "P": 30, "r": 31, "S": 32, "s": 33, "t": 34,
}
# Every character the table does not know (e.g. '%', '0', 'K', 'a', 'e', 'g') gets one code past
# the table, so it still counts as "some character" instead of looking like padding.
UNKNOWN_CODE = 35


def parse_smiles(smiles: str, name: str) -> object:
    """Parse one SMILES with RDKit; a missing or invalid SMILES is a DataError naming the drug."""
    from rdkit import Chem, rdBase

    text = "" if smiles is None else str(smiles).strip()
    if not text:
        raise DataError(f"drug {name!r} has no SMILES")
    if any(c.isspace() for c in text):
        # RDKit would read what follows the space as the molecule's name and parse only the part before it
        raise DataError(f"drug {name!r}: SMILES {text[:80]!r} contains whitespace; a SMILES is one word "
                        f"(RDKit would keep only {text.split()[0][:40]!r})")
    with rdBase.BlockLogs(), reinstating_sigint():  # RDKit would print its parse errors, and may take Ctrl-C
        mol = Chem.MolFromSmiles(text)
    if mol is None or mol.GetNumAtoms() == 0:
        raise DataError(f"drug {name!r}: invalid SMILES {text[:80]!r} (RDKit cannot parse it)")
    return mol


def pubchem_bits(mols: Sequence[object]) -> np.ndarray:
    """The 881 PubChem substructure bits of each molecule (scikit-fingerprints), as uint8.

    Computed through :func:`ammgc.sigint.run_shielded`: RDKit's substructure search, which the fingerprint
    calls hundreds of times per molecule, would otherwise swallow a Ctrl-C (and cut a search short)."""
    if not mols:
        return np.zeros((0, PUBCHEM_BITS), dtype=np.uint8)
    path = _bits_cache(mols)
    try:
        with np.load(path, allow_pickle=False) as archive:
            cached = archive["bits"]
        if cached.shape == (len(mols), PUBCHEM_BITS):
            return cached
    except (OSError, ValueError, KeyError):
        pass  # not computed yet (or an unreadable cache file): computed now
    from skfp.fingerprints import PubChemFingerprint  # imported here, so a forked child finds it loaded

    bits = run_shielded(_pubchem_bits, PubChemFingerprint, list(mols))
    try:
        with atomic_open(path, "wb") as handle:
            np.savez_compressed(handle, bits=bits)
    except OSError:
        pass  # the cache is best-effort: a full or read-only disk only costs the next run the fingerprints
    return bits


def _bits_cache(mols: Sequence[object]) -> Path:
    """Where the fingerprints of these molecules are cached: keyed by each one's canonical SMILES and the
    versions of the libraries that compute them, so a saved model's views cost a second, not a fingerprinting,
    on every later command."""
    import hashlib
    import importlib.metadata
    import json

    from rdkit import Chem

    from ammgc.data.source import cache_dir

    versions = [importlib.metadata.version(name) for name in ("rdkit", "scikit-fingerprints")]
    key = json.dumps([versions, [Chem.MolToSmiles(m) for m in mols]])
    return cache_dir() / "views" / f"pubchem-{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"


def _pubchem_bits(fingerprint: type, mols: list[object]) -> np.ndarray:
    from rdkit import rdBase

    with rdBase.BlockLogs():
        return np.asarray(fingerprint(n_jobs=1).transform(mols), dtype=np.uint8)


def length_prefix() -> np.ndarray:
    """The 32 bits, big-endian, of PubChem's length field (881) that open every fingerprint."""
    return np.array([(PUBCHEM_BITS >> (PREFIX_BITS - 1 - k)) & 1 for k in range(PREFIX_BITS)], dtype=np.uint8)


def to_benchmark_layout(bits: np.ndarray) -> np.ndarray:
    """Place n x 881 PubChem bits in the benchmark's n x 920 layout (prefix, bits, padding)."""
    n = bits.shape[0]
    out = np.zeros((n, FINGERPRINT_WIDTH), dtype=np.uint8)
    out[:, :PREFIX_BITS] = length_prefix()
    out[:, PREFIX_BITS:PREFIX_BITS + PUBCHEM_BITS] = bits
    return out


def smiles_for_encoding(smiles: str, name: str) -> str:
    """The string that is label-encoded for one drug.

    A SMILES written only with characters of the recovered table is encoded as given. Otherwise
    (stereo marks, aromatic lower-case atoms, ...) RDKit rewrites it as the table's source did:
    Kekulé form without stereo, keeping the input atom order.
    """
    from rdkit import Chem, rdBase

    text = str(smiles).strip()
    mol = parse_smiles(text, name)
    if all(c in LABEL_TABLE for c in text):
        return text
    with rdBase.BlockLogs():
        try:
            return Chem.MolToSmiles(mol, isomericSmiles=False, kekuleSmiles=True, canonical=False)
        except (ValueError, RuntimeError):  # kekulisation can fail on odd aromatic input
            return Chem.MolToSmiles(mol, isomericSmiles=False, canonical=False)


def label_encode(text: str, length: int = SMILES_CODE_LENGTH) -> np.ndarray:
    """Encode a string character by character with LABEL_TABLE, truncated or zero-padded to ``length``."""
    codes = np.zeros(length, dtype=np.int64)
    for k, char in enumerate(text[:length]):
        codes[k] = LABEL_TABLE.get(char, UNKNOWN_CODE)
    return codes


def canonical_molecule(mol: object) -> object:
    """The molecule re-read from its canonical SMILES (RDKit, stereo and every fragment kept): atoms in one
    order and aromaticity perceived once, however the input was written."""
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        canonical = Chem.MolFromSmiles(Chem.MolToSmiles(mol))
    return mol if canonical is None else canonical  # a molecule RDKit cannot read back is used as given


def molecule_key(mol: object) -> str:
    """One string per molecule: RDKit's canonical isomeric SMILES."""
    from rdkit import Chem

    return str(Chem.MolToSmiles(mol))


def canonical_encoding_text(mol: object) -> str:
    """A molecule's canonical SMILES as the label table's source wrote its strings: Kekulé, no stereo marks,
    atoms in canonical order."""
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        flat = Chem.MolFromSmiles(Chem.MolToSmiles(mol, isomericSmiles=False))
        if flat is None:
            return str(Chem.MolToSmiles(mol, isomericSmiles=False))
        try:
            Chem.Kekulize(flat, clearAromaticFlags=True)
            return str(Chem.MolToSmiles(flat, kekuleSmiles=True, canonical=False))
        except (ValueError, RuntimeError):  # kekulisation can fail on odd aromatic input
            return str(Chem.MolToSmiles(flat, canonical=False))


def _parse_all(smiles: Sequence[str], names: Sequence[str]) -> list[object]:
    if len(smiles) != len(names):
        raise DataError(f"{len(smiles)} SMILES but {len(names)} drug names")
    return [parse_smiles(s, str(n)) for s, n in zip(smiles, names, strict=True)]


def _views(mols: Sequence[object], texts: Sequence[str]) -> dict[str, np.ndarray]:
    fingerprint = to_benchmark_layout(pubchem_bits([canonical_molecule(m) for m in mols]))
    codes = np.zeros((len(texts), SMILES_CODE_LENGTH), dtype=np.int64)
    for i, text in enumerate(texts):
        codes[i] = label_encode(text)
    return {"fingerprint": fingerprint, "smiles_code": codes}


def drug_views_from_smiles(smiles: Sequence[str], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Both drug views for a dataset's drugs given by SMILES: {"fingerprint": n x 920, "smiles_code": n x 85}.

    Fingerprints are of the canonical molecule; SMILES codes encode each SMILES as written (see the module
    note). Rows follow the input order; an invalid or missing SMILES is a DataError naming the drug.
    """
    with reinstating_sigint():  # RDKit may take Ctrl-C over in this process
        mols = _parse_all(smiles, names)
        return _views(mols, [smiles_for_encoding(s, str(n)) for s, n in zip(smiles, names, strict=True)])


def same_molecules(smiles: Sequence[str], names: Sequence[str], known_smiles: Sequence[str]) -> list[int | None]:
    """For each SMILES, the index of the first of ``known_smiles`` that is the same molecule (canonical
    isomeric SMILES), or None; known SMILES that are empty or do not parse match nothing."""
    from rdkit import Chem, rdBase

    known: dict[str, int] = {}
    with rdBase.BlockLogs(), reinstating_sigint():
        for k, text in enumerate(known_smiles):
            mol = Chem.MolFromSmiles(str(text).strip()) if str(text).strip() else None
            if mol is not None:
                known.setdefault(molecule_key(mol), k)
    return [known.get(molecule_key(mol)) for mol in _parse_all(smiles, names)]


def new_drug_views(smiles: Sequence[str], names: Sequence[str], known_smiles: Sequence[str] = ()
                   ) -> dict[str, np.ndarray]:
    """Both drug views for new drugs, one row per molecule however its SMILES is written: fingerprints of the
    canonical molecule; SMILES codes of the training drug's SMILES (``known_smiles``, as written) where the
    new drug is the same molecule, else of ``canonical_encoding_text``."""
    with reinstating_sigint():
        mols = _parse_all(smiles, names)
        matches = same_molecules(smiles, names, known_smiles)
        texts = [canonical_encoding_text(mol) if k is None else smiles_for_encoding(known_smiles[k], str(n))
                 for mol, k, n in zip(mols, matches, names, strict=True)]
        return _views(mols, texts)


def recover_label_table(smiles: Sequence[str], matrix: np.ndarray) -> tuple[dict[str, int], list[int]]:
    """Recover a character -> code table from an encoded matrix and the SMILES it should come from.

    A row "agrees" when its non-zero length equals the (truncated) SMILES length and every character
    maps to one code within the row. The table is the majority code of each character over agreeing
    rows. Returns (table, indices of agreeing rows).
    """
    length = matrix.shape[1]
    agreeing: list[int] = []
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    for i, (s, row) in enumerate(zip(smiles, matrix, strict=True)):
        text = str(s).strip()[:length]
        if not text or int((row != 0).sum()) != len(text) or (row[len(text):] != 0).any():
            continue
        mapping: dict[str, int] = {}
        if all(mapping.setdefault(c, int(v)) == int(v) for c, v in zip(text, row, strict=False)):
            agreeing.append(i)
            for c, v in mapping.items():
                votes[c][v] += 1
    return {c: counter.most_common(1)[0][0] for c, counter in votes.items()}, agreeing


def fingerprint_agreement(given: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """Per-drug fraction of the 881 substructure bits on which two 920-column fingerprints agree."""
    sl = slice(PREFIX_BITS, PREFIX_BITS + PUBCHEM_BITS)
    return (given[:, sl] == computed[:, sl]).mean(axis=1)


def label_rows_reproduced(given: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """Boolean per drug: the recomputed label encoding equals the shipped row exactly."""
    return (given.astype(np.int64) == computed.astype(np.int64)).all(axis=1)
