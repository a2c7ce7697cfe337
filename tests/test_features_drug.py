"""Drug views from SMILES: PubChem bits in the benchmark's 920 layout, and the recovered label encoding."""

from __future__ import annotations

import numpy as np
import pytest

from ammgc.errors import DataError
from ammgc.features import drug_views_from_smiles, ensure_views
from ammgc.features.drug import (
    FINGERPRINT_WIDTH,
    LABEL_TABLE,
    PREFIX_BITS,
    UNKNOWN_CODE,
    fingerprint_agreement,
    label_encode,
    length_prefix,
    recover_label_table,
    smiles_for_encoding,
)

# PubChem fingerprint spec, section 1 (element counts): bit 0 ">= 4 H", 1 ">= 8 H", 9 ">= 2 C",
# 10 ">= 4 C", 11 ">= 8 C", 14 ">= 1 N", 15 ">= 2 N", 18 ">= 1 O", 37 ">= 1 Cl", 38 ">= 2 Cl".
KNOWN_BITS = {
    "CCO": ({0, 9, 18}, {1, 10, 14, 37}),
    "c1ccccc1": ({0, 9, 10}, {11, 14, 18}),
    "N.N.Cl[Pt+2]Cl": ({14, 15, 37, 38}, {9, 18}),
    "CCO.Cl": ({0, 9, 18, 37}, {38}),  # a salt is fingerprinted whole, counter-ion included
}


@pytest.mark.parametrize("smiles", list(KNOWN_BITS))
def test_fingerprint_known_bits(smiles: str) -> None:
    on, off = KNOWN_BITS[smiles]
    row = drug_views_from_smiles([smiles], ["x"])["fingerprint"][0]
    bits = set(np.flatnonzero(row[PREFIX_BITS:PREFIX_BITS + 881]).tolist())
    assert on <= bits and not (off & bits)


def test_fingerprint_layout() -> None:
    fp = drug_views_from_smiles(["CCO", "c1ccccc1"], ["a", "b"])["fingerprint"]
    assert fp.shape == (2, FINGERPRINT_WIDTH) and set(np.unique(fp)) <= {0, 1}
    prefix = length_prefix()
    assert int("".join(map(str, prefix)), 2) == 881
    assert (fp[:, :PREFIX_BITS] == prefix).all() and not fp[:, PREFIX_BITS + 881:].any()


def test_label_encoding_examples() -> None:
    codes = label_encode("CC(=O)Nc")
    assert codes.shape == (85,)
    assert codes[:8].tolist() == [21, 21, 12, 18, 29, 13, 28, UNKNOWN_CODE]
    assert not codes[8:].any()
    assert label_encode("C" * 100).tolist() == [21] * 85  # truncated to 85
    # outside the table's alphabet, RDKit writes the SMILES as the table's source did: Kekulé, no stereo
    assert smiles_for_encoding("C[C@H](N)C(=O)O", "alanine") == "CC(N)C(=O)O"
    assert "c" not in smiles_for_encoding("c1ccccc1O", "phenol")
    assert smiles_for_encoding("N.N.Cl[Pt+2]Cl", "cisplatin") == "N.N.Cl[Pt+2]Cl"  # all fragments kept
    salt = drug_views_from_smiles(["CCO.Cl"], ["salt"])["smiles_code"][0]
    assert salt[:6].tolist() == [21, 21, 29, 14, 21, 26]


def test_bad_smiles_name_the_drug() -> None:
    with pytest.raises(DataError, match="drug 'Brokenib': invalid SMILES 'C1CC'"):
        drug_views_from_smiles(["CCO", "C1CC"], ["Ethanol", "Brokenib"])
    with pytest.raises(DataError, match="drug 'Nothing' has no SMILES"):
        drug_views_from_smiles(["  "], ["Nothing"])
    with pytest.raises(DataError, match="2 SMILES but 1 drug names"):
        drug_views_from_smiles(["C", "CC"], ["one"])


def test_label_table_recovered_from_shipped_matrix(benchmark) -> None:  # type: ignore[no-untyped-def]
    shipped = benchmark.view("smiles_code").matrix.astype(int)
    table, agreeing = recover_label_table(list(benchmark.drugs["smiles"]), shipped)
    assert len(agreeing) == 42
    assert table == {c: v for c, v in LABEL_TABLE.items() if c in table}  # the shipped table agrees
    assert set(LABEL_TABLE) - set(table) == {"9", "t"}  # inferred from rows that do not agree as a whole
    assert set(LABEL_TABLE.values()) | {0} == set(np.unique(shipped).tolist())


def test_recomputed_views_against_benchmark(benchmark) -> None:  # type: ignore[no-untyped-def]
    out = ensure_views(benchmark, ["fingerprint_smiles", "smiles_code_smiles"])
    codes = out.view("smiles_code_smiles")
    reproduced = (codes.matrix == benchmark.view("smiles_code").matrix).all(axis=1)
    assert reproduced.sum() == 42 and "reproduces 42/106 rows" in codes.note
    fp = out.view("fingerprint_smiles")
    agree = fingerprint_agreement(benchmark.view("fingerprint").matrix, fp.matrix)
    assert agree.mean() == pytest.approx(0.9859, abs=5e-4)
    assert (agree == 1).sum() == 12 and benchmark.drug_names[int(np.argmin(agree))] == "PU-H71"
    # PubChem's own fingerprint of these drugs, as shipped, is reproduced bit for bit
    for name in ("Ethanol", "Cisplatin", "Cyclophosphamide", "Hydroxyurea"):
        i = benchmark.drug_names.index(name)
        np.testing.assert_array_equal(fp.matrix[i], benchmark.view("fingerprint").matrix[i])
    # the 32 prefix and 7 padding columns are the shipped ones exactly
    np.testing.assert_array_equal(fp.matrix[:, :32], benchmark.view("fingerprint").matrix[:, :32])
    np.testing.assert_array_equal(fp.matrix[:, 913:], benchmark.view("fingerprint").matrix[:, 913:])


def test_dataset_without_smiles_is_a_clear_error(planted) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="drug 'drug0' has no SMILES"):
        ensure_views(planted, ["fingerprint_smiles"])


# Each molecule written several ways: atom orders, Kekulé and aromatic forms, a salt's fragments swapped.
SAME_MOLECULES = {
    "osimertinib": ["CN1C=C(C2=CC=CC=C21)C3=NC(=NC=C3)NC4=C(C=C(C(=C4)NC(=O)C=C)N(C)CCN(C)C)OC",
                    "C=CC(=O)Nc1cc(Nc2nccc(-c3cn(C)c4ccccc34)n2)c(OC)cc1N(C)CCN(C)C",
                    "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc1nccc(n1)-c1cn(C)c2ccccc12"],
    "aspirin": ["CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1OC(C)=O", "CC(=O)OC1=CC=CC=C1C(O)=O"],
    "erlotinib": ["COCCOC1=C(C=C2C(=C1)C(=NC=N2)NC3=CC=CC(=C3)C#C)OCCOC",
                  "C#Cc1cccc(Nc2ncnc3cc(OCCOC)c(OCCOC)cc23)c1"],
    "sodium acetate": ["CC(=O)[O-].[Na+]", "[Na+].[O-]C(C)=O"],
    "L-alanine": ["C[C@H](N)C(=O)O", "N[C@@H](C)C(O)=O"],
}


@pytest.mark.parametrize("molecule", list(SAME_MOLECULES))
def test_one_molecule_gives_one_row_however_written(molecule: str) -> None:
    from ammgc.features.drug import new_drug_views

    forms = SAME_MOLECULES[molecule]
    names = [f"{molecule} {k}" for k in range(len(forms))]
    new = new_drug_views(forms, names)
    for view in ("fingerprint", "smiles_code"):
        assert (new[view] == new[view][0]).all(), view
    # a dataset's own drugs keep their SMILES code as written (the benchmark's numbers), but not their bits
    given = drug_views_from_smiles(forms, names)
    assert (given["fingerprint"] == new["fingerprint"][0]).all()


def test_a_new_drug_that_is_a_known_molecule_gets_its_row() -> None:
    from ammgc.features.drug import new_drug_views, same_molecules

    known = ["N.N.Cl[Pt+2]Cl", "", "CC(=O)OC1=CC=CC=C1C(=O)O"]
    assert same_molecules(["OC(=O)c1ccccc1OC(C)=O", "CCO"], ["a", "b"], known) == [2, None]
    new = new_drug_views(["OC(=O)c1ccccc1OC(C)=O"], ["aspirin again"], known)
    dataset = drug_views_from_smiles([known[2]], ["aspirin"])
    for view in ("fingerprint", "smiles_code"):
        np.testing.assert_array_equal(new[view][0], dataset[view][0])


def test_canonicalising_changes_no_benchmark_fingerprint(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Bits of each drug's SMILES as written and of its canonical molecule agree for all 106 drugs, so the
    benchmark's computed views (and every number trained on them) are what they were."""
    from ammgc.features.drug import parse_smiles, pubchem_bits

    mols = [parse_smiles(s, n) for s, n in zip(benchmark.drugs["smiles"], benchmark.drug_names, strict=True)]
    computed = drug_views_from_smiles(list(benchmark.drugs["smiles"]), benchmark.drug_names)["fingerprint"]
    np.testing.assert_array_equal(computed[:, PREFIX_BITS:PREFIX_BITS + 881], pubchem_bits(mols))
