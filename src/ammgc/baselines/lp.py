"""LP: label propagation with linear neighbourhood similarity, on both sides of the bipartite graph.

Source: W. Zhang, Z. Li, W. Guo, W. Yang, F. Huang, "A fast linear neighborhood similarity-based
network link inference method to predict microRNA-disease associations" (FLNSNLI), *IEEE/ACM Trans.
Comput. Biol. Bioinform.* 18(2):405-415, 2021 (doi:10.1109/TCBB.2019.2931546), the LP baseline the
AMMGC paper cites; linear neighbourhoods after F. Wang and C. Zhang, ICML 2006.

1. Similarity (fast LNS): every drug's association profile (its row of the training matrix B) is
   reconstructed from all other drugs' profiles, ``min_W ||X - W X||^2 + mu ||W||^2`` with
   ``diag(W) = 0``, solved for all rows at once in closed form (``P = (X X^T + mu I)^{-1}``,
   ``W_ij = -P_ij / P_jj``). The LNS constraints (weights >= 0, each row summing to 1) are then
   imposed by clipping and row-normalising. The same for miRNAs with the columns of B.
2. Propagation: ``F = (1 - alpha) (I - alpha W)^{-1} Y`` (the fixed point of
   ``F <- alpha W F + (1 - alpha) Y``) with Y = B for drugs and Y = B^T for miRNAs.
3. Score: ``drug_weight * F_drug + (1 - drug_weight) * F_mirna^T``.

Hyper-parameters: mu 1.0, alpha 0.7, drug_weight 0.5 (alpha and drug_weight chosen by inner validation under
the study and time protocols (``benchmarks/tune_defaults.py``, docs/tuning.md); 0.5 / 0.5, FLNSNLI's equal
weights, before). Closed forms only (two dense solves, 106 and 754 wide); no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.methods import Method
from ammgc.params import PROBABILITY, Number


def linear_neighbourhood_similarity(profiles: np.ndarray, mu: float) -> np.ndarray:
    """Row-stochastic, non-negative weights reconstructing each row from the others (ridge closed form)."""
    gram = profiles @ profiles.T
    inverse = np.linalg.inv(gram + mu * np.eye(len(profiles)))
    # column j of -P / P_jj holds the weights that reconstruct row j (zero diagonal by construction)
    weights = (-inverse / np.diag(inverse)[None, :]).T
    np.fill_diagonal(weights, 0.0)
    weights = np.clip(weights, 0.0, None)
    sums = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)


def propagate(weights: np.ndarray, labels: np.ndarray, alpha: float) -> np.ndarray:
    """Closed-form label propagation: (1 - alpha) (I - alpha W)^{-1} Y."""
    system = np.eye(len(weights)) - alpha * weights
    return (1.0 - alpha) * np.linalg.solve(system, labels)


class LabelPropagation(Method):
    name = "lp"

    @dataclass
    class Config:
        mu: float = 1.0
        alpha: float = 0.7
        drug_weight: float = 0.5

    parameters = {"mu": Number(0, open_low=True), "alpha": Number(0, 1, open_low=True, open_high=True),
                  "drug_weight": PROBABILITY}

    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        c = self.config
        b = np.asarray(train, dtype=np.float64)
        drug_side = propagate(linear_neighbourhood_similarity(b, c.mu), b, c.alpha)
        mirna_side = propagate(linear_neighbourhood_similarity(b.T, c.mu), b.T, c.alpha)
        self._scores = c.drug_weight * drug_side + (1.0 - c.drug_weight) * mirna_side.T

    def _score(self) -> np.ndarray:
        return self._scores
