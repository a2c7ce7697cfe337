"""The drug-miRNA bipartite graph: adjacency, its GCN normalisation, and modal feature stacking.

Node order everywhere: drugs 0..p-1, then miRNAs p..p+q-1 (SPEC section 1).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ammgc.errors import DataError


def bipartite_adjacency(train: np.ndarray) -> np.ndarray:
    """A = [[0, B], [B^T, 0]] for the training association matrix B (p x q)."""
    b = np.asarray(train, dtype=np.float32)
    p, q = b.shape
    adjacency = np.zeros((p + q, p + q), dtype=np.float32)
    adjacency[:p, p:] = b
    adjacency[p:, :p] = b.T
    return adjacency


def normalized_adjacency(train: np.ndarray) -> np.ndarray:
    """Â = D̃^{-1/2} (A + I) D̃^{-1/2}, built from the training graph only (Kipf & Welling 2017)."""
    a_tilde = bipartite_adjacency(train) + np.eye(sum(train.shape), dtype=np.float32)
    d_inv_sqrt = 1.0 / np.sqrt(a_tilde.sum(axis=1))
    return (a_tilde * d_inv_sqrt[:, None] * d_inv_sqrt[None, :]).astype(np.float32)


def normalized_adjacency_csr(train: np.ndarray) -> sp.csr_matrix:
    """The same Â as ``normalized_adjacency``, value for value ((a * d_i) * d_j in float32), built from the
    edge list: 2N + p + q stored entries instead of (p+q)^2, for graphs too large for the dense matrix."""
    p, q = train.shape
    drugs, mirnas = np.nonzero(train)
    weights = train[drugs, mirnas].astype(np.float32)
    degree = np.concatenate([train.sum(axis=1, dtype=np.float64), train.sum(axis=0, dtype=np.float64)]) + 1.0
    d_inv_sqrt = 1.0 / np.sqrt(degree.astype(np.float32))
    nodes = np.arange(p + q)
    rows = np.concatenate([drugs, p + mirnas, nodes])
    cols = np.concatenate([p + mirnas, drugs, nodes])
    values = np.concatenate([weights, weights, np.ones(p + q, dtype=np.float32)]) * d_inv_sqrt[rows] * d_inv_sqrt[cols]
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(p + q, p + q))
    matrix.sort_indices()
    return matrix


def row_normalize(matrix: np.ndarray) -> np.ndarray:
    """Divide each row by its sum (SPEC section 1); all-zero rows stay zero. The sum is of absolute values:
    the same for the paper's non-negative features, and for a row with negative values (centred expression)
    it keeps signs and scale instead of dividing by a sum near zero. A row whose sum overflows float64 (values
    near 1e308) is first divided by its largest magnitude, so it is normalised too instead of becoming zeros;
    a value that is not a finite number is a DataError naming its row (from 1)."""
    m = np.asarray(matrix, dtype=np.float64)
    bad = ~np.isfinite(m)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(f"feature value {m[i, j]} in column {int(j) + 1} is not a finite number", row=int(i) + 1)
    with np.errstate(over="ignore"):
        sums = np.abs(m).sum(axis=1, keepdims=True)
    out = np.divide(m, sums, out=np.zeros_like(m), where=sums != 0)
    overflow = np.isinf(sums[:, 0])
    if overflow.any():
        scaled = m[overflow] / np.abs(m[overflow]).max(axis=1, keepdims=True)
        out[overflow] = scaled / np.abs(scaled).sum(axis=1, keepdims=True)
    return out.astype(np.float32)


def stack_modal(drug_features: np.ndarray, mirna_features: np.ndarray) -> np.ndarray:
    """X = [X_d; X_m], the narrower block zero-padded in front to the wider one's width (the paper's rule)."""
    width = max(drug_features.shape[1], mirna_features.shape[1])

    def pad(block: np.ndarray) -> np.ndarray:
        return np.pad(block, ((0, 0), (width - block.shape[1], 0)))

    return np.vstack([pad(drug_features), pad(mirna_features)]).astype(np.float32)
