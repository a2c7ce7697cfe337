from dataclasses import replace

import numpy as np
import pytest

from ammgc.data.dataset import Dataset
from ammgc.errors import DataError
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


def test_row_normalize_handles_rows_too_large_to_sum() -> None:
    """Rows near float64's largest value are normalised like any other row (their sum overflows), and every
    other row keeps exactly the plain formula's numbers."""
    rng = np.random.default_rng(1)
    normal = rng.random((20, 7)) * rng.choice([1e-300, 1e-3, 1.0, 1e6, 1e300], size=(20, 1))
    normal[3] = 0.0
    normal[5, :3] *= -1
    plain = (normal / np.abs(normal).sum(axis=1, keepdims=True).clip(min=np.finfo(float).tiny)).astype(np.float32)
    huge = np.array([[1e308, 1e308, 0, 0, 0, 0, 0], [1e308, -1e308, 5e307, 0, 0, 0, 0], [np.finfo(float).max] * 7])
    assert row_normalize(normal).tobytes() == plain.tobytes()
    np.testing.assert_allclose(row_normalize(huge), [[0.5, 0.5, 0, 0, 0, 0, 0], [0.4, -0.4, 0.2, 0, 0, 0, 0],
                                                     [1 / 7] * 7], rtol=1e-6)
    together = row_normalize(np.vstack([normal, huge]))
    assert together[:20].tobytes() == plain.tobytes()
    assert np.isfinite(together).all()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_row_normalize_refuses_values_that_are_not_numbers(value: float) -> None:
    m = np.ones((3, 4))
    m[2, 1] = value
    with pytest.raises(DataError, match=f"^row 3: feature value {value} in column 2 is not a finite number$"):
        row_normalize(m)


def test_a_view_with_a_value_that_is_not_a_number_is_refused_naming_it(planted: Dataset) -> None:
    matrix = planted.view("expression").matrix.copy()
    matrix[4, 2] = np.nan
    views = {**planted.views, "expression": replace(planted.view("expression"), matrix=matrix)}
    with pytest.raises(DataError, match="^synthetic: view 'expression', mirna 'hsa-mir-4' \\(row 5\\), column 3: "
                                       "feature value nan is not a finite number$"):
        replace(planted, views=views)
    text = replace(planted.view("expression"), matrix=planted.view("expression").matrix.astype(str))
    with pytest.raises(DataError, match="view 'expression' is not a 2-D numeric matrix"):
        replace(planted, views={**planted.views, "expression": text})


def test_stack_modal_pads_the_narrower_block_in_front() -> None:
    drug = np.ones((2, 3))
    mirna = np.full((4, 5), 2.0)
    x = stack_modal(drug, mirna)
    assert x.shape == (6, 5)
    np.testing.assert_array_equal(x[:2, :2], 0)
    np.testing.assert_array_equal(x[:2, 2:], 1)
    np.testing.assert_array_equal(x[2:], 2)
