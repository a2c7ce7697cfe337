"""Publications of each association (ncDR for the benchmark, columns of own data) and the splits built on them."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ammgc.baselines.popularity import Popularity
from ammgc.data.dataset import Dataset
from ammgc.data.ncdr import Ncdr, map_ncdr
from ammgc.errors import AmmgcError, DataError, DownloadError
from ammgc.evaluation.runner import cross_validate, run_fold
from ammgc.evaluation.splits import PairSplit, StudySplit, TimeSplit, study_groups, time_cutoffs
from ammgc.io import file_blob_sha1

NCDR = Ncdr.files[0]


@pytest.fixture(scope="module")
def real(benchmark: Dataset) -> Dataset:
    """The benchmark with the publications shipped in the package (ncDR's, as ``map_ncdr`` maps them)."""
    assert benchmark.publications is not None
    return benchmark


def ncdr_table(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """A small ncDR-shaped table: (PMID, miRNA_ID, miRBase_acc, Drug, CID) per record."""
    return pd.DataFrame([{"PMID": p, "miRNA_ID": m, "miRBase_acc": a, "Drug": d, "CID": c, "Drug_effect": "Resistant"}
                         for p, m, a, d, c in rows])


def small_dataset(drugs: list[tuple[str, str]], mirnas: list[str], pairs: list[tuple[int, int]]) -> Dataset:
    matrix = np.zeros((len(drugs), len(mirnas)), dtype=np.uint8)
    for i, j in pairs:
        matrix[i, j] = 1
    return Dataset(matrix, pd.DataFrame({"name": [d for d, _ in drugs], "cid": [c for _, c in drugs],
                                         "mesh": "", "smiles": ""}),
                   pd.DataFrame({"name": mirnas}), source="small", name="gcmdr-benchmark")


SEEN: dict[str, np.ndarray] = {}


class Spy(Popularity):
    """Popularity that keeps a copy of the training matrix it was given."""

    name = "spy"

    def fit(self, dataset: Dataset, train: np.ndarray | None = None, *, seed: int | None = None) -> Spy:
        assert train is not None
        SEEN["train"] = train.copy()
        return super().fit(dataset, train, seed=seed)


# --- mapping -----------------------------------------------------------------------------------------------

def test_every_matching_rule_and_every_unmapped_reason() -> None:
    table = ncdr_table([
        ("200", "hsa-mir-21", "MI0000077", "Cisplatin", "2767"),
        ("100", "hsa-mir-21", "MI0000077", "Cisplatin", "2767"),            # earlier report of the same pair
        ("300", "hsa-mir-125b-2", "MI0000470", "Adriamycin", "31703"),     # synonym, family copy
        ("400", "hsa-mir-155", "MI0000681", "Gefitinib", "123631"),         # matched by CID, accession
        ("500", "hsa-mir-200c", "MI0000650", "Trastuzumab", ""),            # the index-23 correction
        ("600", "hsa-mir-155", "MI0000681", "Cisplatin", "2767"),
    ])
    drugs = [("Cisplatin", "2767"), ("Doxorubicin (Adriamycin)", "1"), ("Iressa", "123631"),
             ("Lithocholic Acid", "9903"), ("Unknownium", "999")]
    mirnas = ["hsa-miR-21", "hsa-mir-125b", "MI0000681", "hsa-mir-200c", "hsa-mir-999"]
    pairs = [(0, 0), (1, 1), (2, 2), (3, 3), (0, 4), (4, 0), (0, 1)]
    ds = small_dataset(drugs, mirnas, pairs)
    pub = map_ncdr(ds, table, source="test")
    by_pair = {tuple(p): (int(f), str(g)) for p, f, g in zip(pub.pairs, pub.first_report, pub.group, strict=True)}
    assert by_pair[(0, 0)] == (100, "100")          # first report = smallest PMID; case-insensitive id
    assert by_pair[(1, 1)] == (300, "300")          # synonym in parentheses, family name -> copies
    assert by_pair[(2, 2)] == (400, "400")          # CID when the name is unknown; accession as miRNA name
    assert by_pair[(3, 3)] == (500, "500")          # Lithocholic Acid (CID 9903) = ncDR's Trastuzumab
    reasons = {(d, m): reason for d, m, reason in pub.unmapped}
    assert set(reasons) == {(0, 4), (4, 0), (0, 1)}
    assert "miRNA not in ncDR" in reasons[(0, 4)]
    assert "drug not in ncDR" in reasons[(4, 0)]
    assert "no record pairs" in reasons[(0, 1)]
    assert pub.rules["drug synonym"] == 1 and pub.rules["drug cid"] == 1 and pub.rules["drug correction"] == 1
    assert pub.rules["miRNA family"] == 1 and pub.rules["miRNA accession"] == 1
    assert pub.references[list(map(tuple, pub.pairs)).index((0, 0))] == "100;200"


def test_the_correction_is_dropped_when_the_drug_label_does_not_match_its_pairs() -> None:
    table = ncdr_table([("500", "hsa-mir-200c", "", "Trastuzumab", "")])
    ds = small_dataset([("Lithocholic Acid", "9903")], ["hsa-mir-200c", "hsa-mir-21"], [(0, 0), (0, 1)])
    pub = map_ncdr(ds, table, source="test")
    assert not pub.known.any()
    assert all("correction not confirmed" in reason for _, _, reason in pub.unmapped)


def test_real_benchmark_maps_at_least_99_percent_and_lists_the_rest(real: Dataset) -> None:
    pub = real.publications
    assert pub is not None and len(pub.pairs) == 3338
    assert pub.coverage >= 0.99
    assert len(pub.unmapped) == int((~pub.known).sum())
    names = real.drug_names
    # index 23: labelled Lithocholic Acid, all eight pairs found under ncDR's trastuzumab
    rows = pub.pairs[:, 0] == 23
    assert names[23] == "Lithocholic Acid" and rows.sum() == 8 and pub.known[rows].all()
    # the benchmark is clustered by publication: the largest first-report study holds hundreds of pairs
    sizes = pub.group_sizes()
    assert max(sizes.values()) > 400 and len(sizes) > 300
    # PMIDs as time order: every first report is the smallest of its references
    for refs, first in zip(pub.references[:200], pub.first_report[:200], strict=True):
        if refs:
            assert first == min(int(r) for r in refs.split(";"))


def test_ncdr_fetch_is_verified(ncdr_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the subset in tests/data stands in for the published table
    spec = replace(NCDR, blob_sha1=file_blob_sha1(ncdr_path))
    monkeypatch.setattr(Ncdr, "files", (spec,))
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(ncdr_path, mirror / NCDR.path)
    [result] = Ncdr().download(tmp_path / "cache", base_url=mirror.as_uri(), progress=False)
    assert result.status == "downloaded"
    assert file_blob_sha1(tmp_path / "cache" / NCDR.path) == spec.blob_sha1
    (mirror / NCDR.path).write_text("PMID,miRNA_ID\n1,hsa-mir-21\n")
    with pytest.raises(DownloadError, match="does not match"):
        Ncdr().download(tmp_path / "other", base_url=mirror.as_uri(), progress=False)
    assert not (tmp_path / "other" / NCDR.path).exists()


def test_own_data_without_publications_says_what_to_add(planted: Dataset) -> None:
    with pytest.raises(DataError, match="pmid"):
        planted.with_publications()


# --- splits on the real benchmark ----------------------------------------------------------------------------

def test_study_split_never_puts_one_publication_on_both_sides(real: Dataset) -> None:
    pub = real.publications
    groups = study_groups(pub)
    group_of = {tuple(p): g for p, g in zip(pub.pairs, groups, strict=True)}
    sizes = []
    both = list(StudySplit(n_folds=5, repeats=2, seed=0).split(real))
    for repeat in range(2):
        folds = [f for f in both if f.repeat == repeat]
        held = np.concatenate([f.held_out for f in folds])
        assert len({tuple(p) for p in held}) == real.n_associations   # a partition of the positives
        for fold in folds:
            test_groups = {group_of[tuple(p)] for p in fold.held_out}
            train_groups = {group_of[tuple(p)] for p in np.argwhere(fold.train == 1)}
            assert not test_groups & train_groups
        sizes.append([len(f.held_out) for f in folds])
    # near-equal folds (the largest study alone is 419 of ~668 pairs per fold), and repeats reshuffle
    assert max(sizes[0]) - min(sizes[0]) <= 5
    first, second = both[:5], both[5:]
    assert any(not np.array_equal(a.held_out, b.held_out) for a, b in zip(first, second, strict=True))


def test_time_split_trains_only_on_the_past(real: Dataset) -> None:
    pub = real.publications
    folds = list(TimeSplit().split(real))
    keys = time_cutoffs(pub, (0.6, 0.7, 0.8))
    assert len(folds) == 3 and keys == sorted(keys)
    first = {tuple(p): int(k) for p, k in zip(pub.pairs, pub.first_report, strict=True)}
    for fold, key in zip(folds, keys, strict=True):
        train_pairs = [tuple(p) for p in np.argwhere(fold.train == 1)]
        assert all(0 <= first[p] < key for p in train_pairs)
        assert all(first[tuple(p)] >= key for p in fold.held_out)
        # undated pairs are on neither side: not in training, not a test positive, not a test negative
        test = {tuple(p) for p in fold.candidates}
        for d, m, _ in pub.unmapped:
            assert fold.train[d, m] == 0 and (d, m) not in test
        assert 0.15 < len(fold.held_out) / real.n_associations < 0.45


def test_no_later_pair_reaches_what_the_method_sees(real: Dataset) -> None:
    """The method gets the fold's training matrix only: later pairs are plain zeros there, indistinguishable
    from unobserved pairs for its graph, its degree features and its negative sampling."""
    SEEN.clear()
    fold = next(TimeSplit().split(real))
    record = run_fold(Spy(), real, fold, seed=0)
    assert np.array_equal(SEEN["train"], fold.train)
    assert SEEN["train"][fold.held_out[:, 0], fold.held_out[:, 1]].sum() == 0
    assert 0.5 < record["auc"] < 0.8


def test_popularity_collapses_without_random_pairs(real: Dataset) -> None:
    """With the grouping working, echoing co-reported studies is no longer possible: popularity's AUC falls
    far below its random-pair value (0.87)."""
    pair = cross_validate("popularity", real, PairSplit(repeats=1))
    study = cross_validate("popularity", real, StudySplit(repeats=1))
    assert pair.mean["auc"] > 0.85
    assert study.mean["auc"] < pair.mean["auc"] - 0.1


def test_publication_splits_refuse_without_publications(planted: Dataset) -> None:
    with pytest.raises(AmmgcError, match="publication"):
        list(StudySplit().split(planted))


def test_report_counts_use_first_reports_of_training_pairs_only() -> None:
    from ammgc.data.publications import build_publications, report_counts

    train = np.array([[1, 1, 1, 0], [0, 1, 0, 1]], dtype=np.uint8)
    full = train.copy()
    full[1, 0] = 1                                  # a held-out pair: its publication must not count
    pairs = np.argwhere(full == 1)
    reports = {(0, 0): [(10, "10")], (0, 1): [(10, "10"), (30, "30")], (0, 2): [(20, "20")],
               (1, 0): [(40, "40")], (1, 1): [(10, "10")], (1, 3): []}
    pub = build_publications(pairs, [reports[tuple(p)] for p in pairs], kind="pmid", source="t")
    drugs, mirnas = report_counts(pub, train)
    # drug 0: first reports 10, 10, 20 -> 2 publications (the later report 30 of pair (0, 1) does not count);
    # drug 1: 10 and an undated pair (a publication of its own) -> 2
    assert drugs.tolist() == [2.0, 2.0]
    assert mirnas.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_node_activity_counts_pairs_studies_or_their_geometric_mean() -> None:
    from ammgc.data.publications import build_publications, node_activity

    train = np.array([[1, 1, 1], [0, 1, 0]], dtype=np.uint8)
    pairs = np.argwhere(train == 1)
    pub = build_publications(pairs, [[(5, "5")], [(5, "5")], [(6, "6")], [(7, "7")]], kind="pmid", source="t")
    drugs, _, kind = node_activity(train, pub, "studies")
    assert kind == "studies" and drugs.tolist() == [2.0, 1.0]
    drugs, _, kind = node_activity(train, pub, "mixed")
    # log(1 + mixed) is the mean of log(1 + pairs) and log(1 + studies)
    np.testing.assert_allclose(np.log1p(drugs), (np.log1p([3.0, 1.0]) + np.log1p([2.0, 1.0])) / 2)
    assert kind == "mixed"
    for counts in ("auto", "mixed"):
        assert node_activity(train, None, counts)[2] == "pairs"
    with pytest.raises(AmmgcError, match="needs the publication"):
        node_activity(train, None, "studies")
