"""SDNE: structural deep network embedding (Wang, Cui, Zhu 2016) of the drug-miRNA graph, in PyTorch.

Source: D. Wang, P. Cui, W. Zhu, "Structural deep network embedding", KDD 2016, 1225-1234
(doi:10.1145/2939672.2939753).

Each node's input is its row of the training adjacency A = [[0, B], [B^T, 0]] (860 wide on the
benchmark). A deep autoencoder (sigmoid layers ``hidden``, mirrored decoder) embeds it as y_i, with the
paper's joint loss over all nodes, trained full batch:

* second-order proximity: ``sum_i ||(x̂_i - x_i) * b_i||^2`` with b_ij = ``beta`` where A_ij = 1 and 1
  elsewhere (reconstruction errors on edges cost more);
* first-order proximity: ``alpha * sum_ij A_ij ||y_i - y_j||^2`` (linked nodes embed close);
* ``nu`` x the sum of squared weights.

Score of (drug i, miRNA j) = ``<y_i, y_{p+j}>``.

Hyper-parameters: hidden (256, 64), alpha 1, beta 10, nu 1e-4, epochs 25, Adam lr 0.01, Xavier-uniform
weights; epochs, alpha and beta chosen by inner validation under the study and time protocols
(``benchmarks/tune_defaults.py``, docs/tuning.md). The inner product of SDNE embeddings is not what its loss
optimises, and the ranking it gives degrades with training, so the epoch count acts as early stopping (the
earlier defaults, alpha 10 and 50 epochs, had been picked on the paper protocol's test folds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ammgc.baselines.training import train_by_gradient
from ammgc.data.dataset import Dataset
from ammgc.methods import Method
from ammgc.models.graph import bipartite_adjacency
from ammgc.params import EPOCHS, LEARNING_RATE, NON_NEGATIVE, Number, Sizes


def _sigmoid_mlp(sizes: list[int], generator: torch.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        linear = nn.Linear(n_in, n_out)
        nn.init.xavier_uniform_(linear.weight, generator=generator)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


class SDNE(Method):
    name = "sdne"

    @dataclass
    class Config:
        hidden: tuple[int, ...] = (256, 64)
        alpha: float = 1.0
        beta: float = 10.0
        nu: float = 1e-4
        epochs: int = 25
        lr: float = 0.01

    parameters = {"hidden": Sizes(), "alpha": NON_NEGATIVE, "beta": Number(1), "nu": NON_NEGATIVE, "epochs": EPOCHS,
                  "lr": LEARNING_RATE}

    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        c = self.config
        p = train.shape[0]
        x = torch.from_numpy(bipartite_adjacency(train))
        n = x.shape[0]
        generator = torch.Generator().manual_seed(seed)
        encoder = _sigmoid_mlp([n, *c.hidden], generator)
        decoder = _sigmoid_mlp([*reversed(c.hidden), n], generator)
        weights = [m.weight for m in (*encoder, *decoder) if isinstance(m, nn.Linear)]
        penalty = 1.0 + (c.beta - 1.0) * x
        drugs, mirnas = (torch.from_numpy(idx) for idx in np.nonzero(np.asarray(train)))
        def loss() -> torch.Tensor:
            y = encoder(x)
            second = (((decoder(y) - x) * penalty) ** 2).sum()
            # each undirected edge appears twice in sum_ij A_ij ||y_i - y_j||^2
            first = 2.0 * ((y[drugs] - y[p + mirnas]) ** 2).sum()
            return second + c.alpha * first + c.nu * sum((w**2).sum() for w in weights)

        self.losses_ = train_by_gradient(loss, [*encoder.parameters(), *decoder.parameters()], epochs=c.epochs,
                                         lr=c.lr, name="sdne")
        with torch.no_grad():
            y = encoder(x).double()
        self.embeddings_ = y.numpy()
        self._scores = self.embeddings_[:p] @ self.embeddings_[p:].T

    def _score(self) -> np.ndarray:
        return self._scores
