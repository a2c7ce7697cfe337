"""GCMDR: the graph-convolution latent factor model of Huang et al. 2019, with real message passing.

Source: Y.-a. Huang, P. Hu, K. C. C. Chan, Z.-H. You, "Graph convolution for predicting associations
between miRNA and drug resistance", *Bioinformatics* 36(3):851-858, 2020 (online 2019;
doi:10.1093/bioinformatics/btz621). Settings are those of the authors' public code (``xyzx2019/GCMDR``).

Node features X are block-diagonal: drugs carry their row-normalised ``fingerprint`` view in the
first columns, miRNAs their row-normalised ``expression`` view in the last (each row divided by its
sum, SPEC section 1). One graph convolution with a free per-node offset W2 gives the latent factors
``H = ReLU(Â X W1 + W2)``, with ``Â = D^{-1/2} A D^{-1/2} + I`` of the training graph (the paper's
propagation rule). The decoder is bilinear: ``score(i, j) = H_i W3 H_{p+j}^T``. The loss is the root
mean (over all p x q pairs) of the squared error on training positives (target 1) and ``p_neg`` x as
many distinct unobserved pairs (target 0) drawn afresh each epoch (``ammgc.models.sampling``), plus
``weight_decay * ||W||^2 / 2`` on W1, W2 and W3 (Glorot-uniform initialised).

Hyper-parameters (the authors' code): latent 25, Adam lr 0.001, weight_decay 5e-4, p_neg 5; epochs 100 (the
authors' 200 and p_neg 1 and 5 were searched too, chosen by inner validation under the study and time
protocols (``benchmarks/tune_defaults.py``, docs/tuning.md)). Two differences from that code, both required
by our protocol (SPEC section 3):

* The public code feeds Â into an int32 placeholder, which truncates every off-diagonal entry to 0, so
  its "graph convolution" multiplies by the identity. Here Â is real; on this benchmark the free
  offset W2 carries most of the signal and the two score alike (1 x 5-fold AUPR 0.242 with Â, 0.242
  without).
* The public code draws negatives from pairs unobserved in the full matrix, i.e. never a held-out
  positive: test-label leakage worth about +0.035 AUPR here (0.277 with it, the figure the public code
  reaches). Here negatives come from the zeros of the training matrix only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ammgc.baselines.training import train_by_gradient
from ammgc.data.dataset import Dataset
from ammgc.errors import DataError
from ammgc.methods import Method
from ammgc.models.graph import bipartite_adjacency, row_normalize
from ammgc.models.sampling import NegativeSampler
from ammgc.params import EPOCHS, LEARNING_RATE, NEGATIVE_RATIO, NON_NEGATIVE, Name, Number


def gcmdr_adjacency(train: np.ndarray) -> np.ndarray:
    """Â = D^{-1/2} A D^{-1/2} + I of the bipartite training graph (isolated nodes keep only the I)."""
    a = bipartite_adjacency(train)
    degree = a.sum(axis=1)
    d_inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    return (a * d_inv_sqrt[:, None] * d_inv_sqrt[None, :] + np.eye(len(a), dtype=np.float32)).astype(np.float32)


def block_features(drug: np.ndarray, mirna: np.ndarray) -> np.ndarray:
    """[[X_d, 0], [0, X_m]], each block row-normalised: drugs and miRNAs keep separate feature spaces."""
    p, q = drug.shape[0], mirna.shape[0]
    x = np.zeros((p + q, drug.shape[1] + mirna.shape[1]), dtype=np.float32)
    x[:p, : drug.shape[1]] = row_normalize(drug)
    x[p:, drug.shape[1]:] = row_normalize(mirna)
    return x


def _glorot(rows: int, cols: int, generator: torch.Generator) -> torch.nn.Parameter:
    bound = float(np.sqrt(6.0 / (rows + cols)))
    return torch.nn.Parameter((2.0 * torch.rand(rows, cols, generator=generator) - 1.0) * bound)


class GCMDR(Method):
    name = "gcmdr"
    uses_features = True

    @dataclass
    class Config:
        drug_view: str = "fingerprint"
        mirna_view: str = "expression"
        latent: int = 25
        epochs: int = 100
        lr: float = 0.001
        weight_decay: float = 5e-4
        p_neg: float = 5.0

    parameters = {"drug_view": Name(), "mirna_view": Name(), "latent": Number(1, 4096, integer=True),
                  "epochs": EPOCHS, "lr": LEARNING_RATE, "weight_decay": NON_NEGATIVE, "p_neg": NEGATIVE_RATIO}

    def inputs(self, dataset: Dataset) -> dict[str, object]:
        return {"drug": [self.config.drug_view], "mirna": [self.config.mirna_view], "go_substitute": False}

    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        c = self.config
        drug_view, mirna_view = dataset.view(c.drug_view), dataset.view(c.mirna_view)
        for view, entity in ((drug_view, "drug"), (mirna_view, "mirna")):
            if view.entity != entity:
                raise DataError(f"gcmdr needs a {entity} view, but {view.name!r} describes {view.entity}s",
                                file=view.source)
        p, q = train.shape
        # Â X is fixed during training: one product up front instead of one per epoch
        ax = torch.from_numpy(gcmdr_adjacency(train) @ block_features(drug_view.matrix, mirna_view.matrix))
        generator = torch.Generator().manual_seed(seed)
        w1 = _glorot(ax.shape[1], c.latent, generator)
        w2 = _glorot(p + q, c.latent, generator)
        w3 = _glorot(c.latent, c.latent, generator)
        sampler = NegativeSampler(train, p_neg=c.p_neg, generator=generator, replace=False)
        target = torch.as_tensor(np.asarray(train, dtype=np.float32)).flatten()
        def loss() -> torch.Tensor:
            h = torch.relu(ax @ w1 + w2)
            scores = (h[:p] @ w3 @ h[p:].T).flatten()
            error = torch.sqrt((((scores - target) ** 2) * sampler.mask()).mean())
            return error + c.weight_decay * sum((w**2).sum() / 2 for w in (w1, w2, w3))

        self.losses_ = train_by_gradient(loss, [w1, w2, w3], epochs=c.epochs, lr=c.lr, name="gcmdr")
        with torch.no_grad():
            h = torch.relu(ax @ w1 + w2)
            self._scores = (h[:p] @ w3 @ h[p:].T).double().numpy()

    def _score(self) -> np.ndarray:
        return self._scores
