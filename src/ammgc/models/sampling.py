"""The per-epoch training pairs of every method trained on sampled negatives (AMMGC, gf, gcmdr).

Every training positive plus ``p_neg`` x as many negatives, drawn afresh each epoch and only from the
pairs that are 0 in the training matrix (SPEC section 3): held-out positives can be drawn, as
undiscovered associations would be in real use; nothing else about the test fold is visible here.
"""

from __future__ import annotations

import numpy as np
import torch

from ammgc.errors import TrainingError


class NegativeSampler:
    """Training positives and, per call, fresh negatives from the training matrix's zeros.

    ``replace`` is how each method has always drawn (the same seed gives the same pairs):

    - ``True`` (AMMGC): zeros drawn with replacement, the k-th zero of the flattened matrix found as
      ``k + #{i : positive[i] - i <= k}``, so no table of every zero is kept (8 bytes a pair, 6 GB at
      100x the benchmark).
    - ``False`` (gf, gcmdr): distinct zeros (at most all of them), a random permutation of that table.

    ``generator`` is the only source of randomness; a method may share it with its initialisation.
    """

    def __init__(self, train: np.ndarray, *, p_neg: float, generator: torch.Generator, replace: bool,
                 device: torch.device | str = "cpu") -> None:
        train = np.asarray(train)
        self.shape: tuple[int, int] = train.shape
        self.replace = replace
        self.generator = generator
        self.device = torch.device(device)
        known = train.ravel() != 0
        self.positives = torch.from_numpy(np.flatnonzero(known)).to(self.device)
        n_pos = len(self.positives)
        if n_pos == 0:
            raise TrainingError("the training matrix has no positive pair to learn from")
        self.n_zero = train.size - n_pos
        n_neg = max(1, round(p_neg * n_pos))
        if replace:
            self.zeros_before = self.positives - torch.arange(n_pos, device=self.device)
        else:
            self.zeros = torch.from_numpy(np.flatnonzero(~known)).to(self.device)
            n_neg = min(self.n_zero, n_neg)
        self.n_neg = n_neg
        #: 1 for each positive, then 0 for each negative: the labels of ``pairs()``, in its order.
        self.labels = torch.cat([torch.ones(n_pos), torch.zeros(n_neg)]).to(self.device)

    def negatives(self) -> torch.Tensor:
        """Flat indices (row * q + column) of ``n_neg`` fresh training zeros."""
        if self.replace:
            pick = torch.randint(self.n_zero, (self.n_neg,), generator=self.generator).to(self.device)
            return pick + torch.searchsorted(self.zeros_before, pick, right=True)
        order = torch.randperm(self.n_zero, generator=self.generator)[: self.n_neg]
        return self.zeros[order.to(self.device)]

    def pairs(self) -> torch.Tensor:
        """Flat indices of the positives, then of fresh negatives (labelled by ``labels``)."""
        return torch.cat([self.positives, self.negatives()])

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(drug indices, miRNA indices, 0/1 labels) of the positives and fresh negatives."""
        flat = self.pairs()
        q = self.shape[1]
        return flat // q, flat % q, self.labels

    def mask(self) -> torch.Tensor:
        """A flat p*q 0/1 float mask of the positives and fresh negatives."""
        mask = torch.zeros(self.shape[0] * self.shape[1], device=self.device)
        mask[self.positives] = 1.0
        mask[self.negatives()] = 1.0
        return mask
