import numpy as np

from ammgc.models.graph import (
    bipartite_adjacency,
    normalized_adjacency,
    normalized_adjacency_csr,
    row_normalize,
    stack_modal,
)


def test_bipartite_adjacency_layout() -> None:
    b = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.uint8)
    a = bipartite_adjacency(b)
    assert a.shape == (5, 5)
    np.testing.assert_array_equal(a[:2, 2:], b)
    np.testing.assert_array_equal(a[2:, :2], b.T)
    assert a[:2, :2].sum() == 0 and a[2:, 2:].sum() == 0


def test_normalized_adjacency_by_hand() -> None:
    b = np.array([[1]], dtype=np.uint8)  # two nodes, one edge: degrees with self-loops are 2 and 2
    np.testing.assert_allclose(normalized_adjacency(b), np.full((2, 2), 0.5))


def test_sparse_normalisation_equals_dense_exactly() -> None:
    rng = np.random.default_rng(0)
    b = (rng.random((30, 50)) < 0.1).astype(np.float32)
    np.testing.assert_array_equal(normalized_adjacency_csr(b).toarray(), normalized_adjacency(b))


def test_row_normalize_leaves_zero_rows_zero() -> None:
    m = np.array([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(row_normalize(m), [[0.25, 0.75], [0.0, 0.0]])


def test_stack_modal_pads_the_narrower_block_in_front() -> None:
    drug = np.ones((2, 3))
    mirna = np.full((4, 5), 2.0)
    x = stack_modal(drug, mirna)
    assert x.shape == (6, 5)
    np.testing.assert_array_equal(x[:2, :2], 0)
    np.testing.assert_array_equal(x[:2, 2:], 1)
    np.testing.assert_array_equal(x[2:], 2)
