"""AMMGC as one ``nn.Module``: the modal GCN encoders, the attention fusion and the decoder, trained or loaded.

``AMMGCNet`` is what ``AMMGC.fit`` leaves behind (``network_``) and what a model file stores: its state
dict holds every weight, the frozen embeddings of the training nodes and the attention coefficients, so
scoring known pairs, embedding new drugs or miRNAs and saving or loading a model all go through this one
module. The training itself (two stages, samplers, threads) stays in ``ammgc.models.ammgc``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ammgc.models.layers import AttentionFusion, GCNEncoder


class ActivityDecoder(nn.Module):
    """score(i, j) = Z_i . Z_{p+j} + weight * (log(1 + a_i) + log(1 + a_j)): the paper's inner-product
    decoder (its eq. 5 before the sigmoid) plus the activity prior; a node beyond the training ones (a new
    drug or miRNA) has activity 0. Logits are float64, the products float32 as the embeddings are."""

    def __init__(self, drug_prior: np.ndarray, mirna_prior: np.ndarray, weight: float) -> None:
        super().__init__()
        self.register_buffer("drug_prior", torch.as_tensor(np.asarray(drug_prior, dtype=np.float64)))
        self.register_buffer("mirna_prior", torch.as_tensor(np.asarray(mirna_prior, dtype=np.float64)))
        self.weight = float(weight)

    def forward(self, drug_z: torch.Tensor, mirna_z: torch.Tensor, *, drug_start: int = 0) -> torch.Tensor:
        """Logits of drugs ``drug_start ..`` (rows of ``drug_z``) x every miRNA of ``mirna_z``."""
        logits = (drug_z @ mirna_z.T).to(torch.float64)
        if self.weight:
            drugs = _padded(self.drug_prior, drug_start, drug_z.shape[0])
            mirnas = _padded(self.mirna_prior, 0, mirna_z.shape[0])
            logits = logits + self.weight * (drugs[:, None] + mirnas[None, :])
        return logits


def _padded(prior: torch.Tensor, start: int, n: int) -> torch.Tensor:
    """``prior[start:start + n]``, zeros where that runs past the known nodes."""
    known = prior[start:start + n]
    return torch.cat([known, known.new_zeros(n - known.shape[0])]) if known.shape[0] < n else known


class AMMGCNet(nn.Module):
    """The trained model: ``encoders`` (one GCN per modal), ``fusion`` (attention), ``decoder``, and the buffers
    ``embeddings`` (U x (p+q) x d, the training nodes) and ``coefficients`` (U x d, attention from them)."""

    def __init__(self, encoders: Sequence[GCNEncoder], fusion: AttentionFusion, decoder: ActivityDecoder,
                 embeddings: torch.Tensor, coefficients: torch.Tensor, n_drugs: int) -> None:
        super().__init__()
        self.encoders = nn.ModuleList(encoders)
        self.fusion = fusion
        self.decoder = decoder
        self.register_buffer("embeddings", embeddings.detach())
        self.register_buffer("coefficients", coefficients.detach())
        self.n_drugs = n_drugs

    def fuse(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Z = ||_u E^u diag(g^u) of stacked embeddings (U, n, d), with the coefficients of the training nodes."""
        weighted = embeddings * self.coefficients[:, None, :]
        return weighted.permute(1, 0, 2).reshape(embeddings.shape[1], -1)

    @property
    def fused(self) -> torch.Tensor:
        """Z of the training nodes (drugs first)."""
        return self.fuse(self.embeddings)

    def embed_isolated(self, modal: int, features: torch.Tensor) -> torch.Tensor:
        """Embeddings by modal ``modal``'s frozen encoder of nodes whose only edge is the self-loop (a new drug
        or miRNA: Â restricted to it is I)."""
        encoder = self.encoders[modal]
        if features.shape[0] == 0:
            return features.new_zeros((0, encoder.layers[-1].weight.shape[1]))
        encoder.eval()
        with torch.no_grad():
            return encoder(features, torch.eye(features.shape[0], device=features.device))

    def forward(self, start: int = 0, stop: int | None = None, *, fused: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of training drugs ``start:stop`` x every training miRNA (``fused``: ``self.fused``, computed
        once by a caller that scores block by block)."""
        fused = self.fused if fused is None else fused
        stop = self.n_drugs if stop is None else stop
        return self.decoder(fused[start:stop], fused[self.n_drugs:], drug_start=start)
