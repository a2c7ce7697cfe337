import numpy as np
import pandas as pd
import pytest

from ammgc.data.dataset import Dataset
from ammgc.evaluation.splits import ColdStartSplit, PairSplit, StudySplit, TimeSplit, splitter
from ammgc.params import ParameterError


def dataset(seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    b = (rng.random((20, 30)) < 0.2).astype(np.uint8)
    return Dataset(b, pd.DataFrame({"name": [f"d{i}" for i in range(20)]}),
                   pd.DataFrame({"name": [f"m{j}" for j in range(30)]}))


def test_pair_folds_partition_positives_and_hide_test_positives() -> None:
    ds = dataset()
    b = ds.associations
    folds = list(PairSplit(n_folds=5, repeats=1, seed=0).split(ds))
    held = np.concatenate([f.held_out for f in folds])
    assert len(held) == b.sum() and len({tuple(p) for p in held}) == b.sum()
    for f in folds:
        assert f.train[f.held_out[:, 0], f.held_out[:, 1]].sum() == 0
        assert f.train.sum() == b.sum() - len(f.held_out)
        # candidates: held-out positives plus every pair that is 0 in the full matrix
        assert f.labels.sum() == len(f.held_out)
        assert (f.labels == 0).sum() == (b == 0).sum()
        assert set(map(tuple, f.candidates[f.labels == 1])) == set(map(tuple, f.held_out))
        # no training positive is a candidate
        assert f.train[f.candidates[:, 0], f.candidates[:, 1]].sum() == 0


def test_same_seed_same_folds_and_repeats_differ() -> None:
    ds = dataset()
    a1 = list(PairSplit(repeats=2, seed=0).split(ds))
    a2 = list(PairSplit(repeats=2, seed=0).split(ds))
    assert all(np.array_equal(x.held_out, y.held_out) for x, y in zip(a1, a2, strict=True))
    assert [(f.repeat, f.fold) for f in a1] == [(r, k) for r in range(2) for k in range(5)]
    assert not np.array_equal(a1[0].held_out, a1[5].held_out)
    # repeat r of seed s is repeat 0 of seed s + r: the paper's seeds 0-9
    assert np.array_equal(a1[5].held_out, next(PairSplit(repeats=1, seed=1).split(ds)).held_out)


def test_drug_split_holds_out_whole_rows() -> None:
    ds = dataset()
    folds = list(ColdStartSplit("drug", n_folds=4, repeats=1, seed=1).split(ds))
    assert sorted(np.concatenate([f.held_out for f in folds]).tolist()) == list(range(ds.n_drugs))
    for f in folds:
        assert f.train[f.held_out].sum() == 0
        assert set(f.candidates[:, 0]) == set(f.held_out.tolist())
        assert f.labels.sum() == ds.associations[f.held_out].sum()


def test_mirna_split_holds_out_whole_columns() -> None:
    for f in ColdStartSplit("mirna", n_folds=3, repeats=1, seed=2).split(dataset()):
        assert f.train[:, f.held_out].sum() == 0
        assert set(f.candidates[:, 1]) == set(f.held_out.tolist())


@pytest.mark.parametrize(("build", "message"), [
    (lambda: PairSplit(n_folds=1), "n_folds must be an integer >= 2"),
    (lambda: StudySplit(repeats=0), "repeats must be an integer >= 1"),
    (lambda: PairSplit(seed=-1), "seed=-1"),
    (lambda: TimeSplit(cutoffs=(0.5, 1.2)), "cutoffs must be distinct fractions"),
    (lambda: TimeSplit(cutoffs=("a",)), "cutoffs must be fractions"),
    (lambda: ColdStartSplit("both"), "side must be 'drug' or 'mirna'"),
    (lambda: splitter("random"), "split must be one of pair, drug, mirna, study, time"),
    (lambda: splitter("time", repeats=3), "the time split has one fold per cut-off"),
])
def test_splitter_parameters_are_checked_when_built(build: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        build()  # type: ignore[operator]


def test_publication_splits_need_publications() -> None:
    with pytest.raises(Exception, match="the study split needs the publication of each association"):
        list(StudySplit().split(dataset()))


def test_splitter_by_name_with_the_protocol_defaults() -> None:
    assert splitter("pair") == PairSplit(5, 10, 0)
    assert splitter("study", seed=3) == StudySplit(5, 5, 3)
    assert splitter("drug", n_folds=3, repeats=2) == ColdStartSplit("drug", 3, 2, 0)
    assert splitter("time").params() == {"split": "time", "cutoffs": (0.6, 0.7, 0.8), "seed": 0}
