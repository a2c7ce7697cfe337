import numpy as np

from ammgc.evaluation.splits import make_folds


def matrix(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((20, 30)) < 0.2).astype(np.uint8)


def test_pair_folds_partition_positives_and_hide_test_positives() -> None:
    b = matrix()
    folds = make_folds(b, n_folds=5, seed=0)
    held = np.concatenate([f.held_out for f in folds])
    assert len(held) == b.sum() and len({tuple(p) for p in held}) == b.sum()
    for f in folds:
        assert f.train[f.held_out[:, 0], f.held_out[:, 1]].sum() == 0
        assert f.train.sum() == b.sum() - len(f.held_out)
        # test set: held-out positives plus every pair that is 0 in the full matrix
        assert f.test_labels.sum() == len(f.held_out)
        assert (f.test_labels == 0).sum() == (b == 0).sum()
        assert set(map(tuple, f.test_pairs[f.test_labels == 1])) == set(map(tuple, f.held_out))
        # no training positive appears in the test set
        assert f.train[f.test_pairs[:, 0], f.test_pairs[:, 1]].sum() == 0


def test_same_seed_same_folds_and_repeats_differ() -> None:
    b = matrix()
    a1 = make_folds(b, seed=0, repeat=0)
    a2 = make_folds(b, seed=0, repeat=0)
    a3 = make_folds(b, seed=0, repeat=1)
    assert all(np.array_equal(x.held_out, y.held_out) for x, y in zip(a1, a2, strict=True))
    assert not np.array_equal(a1[0].held_out, a3[0].held_out)


def test_drug_split_holds_out_whole_rows() -> None:
    b = matrix()
    folds = make_folds(b, n_folds=4, seed=1, split="drug")
    assert sorted(np.concatenate([f.held_out for f in folds]).tolist()) == list(range(b.shape[0]))
    for f in folds:
        assert f.train[f.held_out].sum() == 0
        assert set(f.test_pairs[:, 0]) == set(f.held_out.tolist())
        assert f.test_labels.sum() == b[f.held_out].sum()


def test_mirna_split_holds_out_whole_columns() -> None:
    b = matrix()
    for f in make_folds(b, n_folds=3, seed=2, split="mirna"):
        assert f.train[:, f.held_out].sum() == 0
        assert set(f.test_pairs[:, 1]) == set(f.held_out.tolist())
