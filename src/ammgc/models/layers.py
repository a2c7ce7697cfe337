"""Small torch modules, each doing one thing: a GCN layer, a per-modal encoder, attention fusion, a decoder."""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn


def as_operator(matrix: torch.Tensor, *, sparse_below: float = 0.25) -> torch.Tensor:
    """Keep a matrix sparse (CSR) when few entries are non-zero: products then cost O(nnz), not O(n^2)."""
    density = float((matrix != 0).sum()) / max(1, matrix.numel())
    if density >= sparse_below or matrix.device.type != "cpu":
        return matrix
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return matrix.to_sparse_csr()


class GCNLayer(nn.Module):
    """H' = Â (H W): one graph convolution (Kipf & Welling 2017) without bias, Glorot-initialised."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.weight.shape[0] + self.weight.shape[1]))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        return adjacency @ (h @ self.weight)


class GCNEncoder(nn.Module):
    """A stack of GCN layers: dropout on every layer's input (features included, as the authors' code
    does), ReLU between layers, and the chosen activation on the last one."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], *, dropout: float = 0.1,
                 input_dropout: float | None = None, last_activation: str = "identity") -> None:
        super().__init__()
        sizes = (in_features, *hidden)
        self.layers = nn.ModuleList(GCNLayer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = nn.Dropout(dropout)
        self.input_dropout = nn.Dropout(dropout if input_dropout is None else input_dropout)
        if last_activation not in ("identity", "relu"):
            raise ValueError(f"last_activation must be 'identity' or 'relu', not {last_activation!r}")
        self.last_activation = last_activation

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        h = x
        for k, layer in enumerate(self.layers):
            h = layer((self.dropout if k else self.input_dropout)(h), adjacency)
            if k < len(self.layers) - 1:
                h = torch.relu(h)
        return torch.relu(h) if self.last_activation == "relu" else h


def inner_product_logits(embeddings: torch.Tensor, n_drugs: int) -> torch.Tensor:
    """Logits of every drug x miRNA pair: E_i . E_{p+j} (sigmoid gives the paper's score)."""
    return embeddings[:n_drugs] @ embeddings[n_drugs:].T


class AttentionFusion(nn.Module):
    """Paper eq. 4: g^u = W_u E^u + b_u (W_u: 1 x (p+q), b_u: 1 x d), Z = ||_u E^u diag(g^u).

    With ``softmax`` the coefficients are normalised over the modals per embedding dimension (the
    authors' code); ``equal`` fixes every coefficient at 1/U and has no trainable parameters
    (the paper's "w/o attention" ablation).
    """

    def __init__(self, n_modals: int, n_nodes: int, dim: int, *, mode: str = "softmax") -> None:
        super().__init__()
        if mode not in ("softmax", "linear", "equal"):
            raise ValueError(f"attention mode must be softmax, linear or equal, not {mode!r}")
        self.mode, self.n_modals = mode, n_modals
        if mode != "equal":
            self.weight = nn.Parameter(torch.empty(n_modals, n_nodes))
            self.bias = nn.Parameter(torch.empty(n_modals, dim))
            self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.mode != "equal":
            for param in (self.weight, self.bias):
                bound = math.sqrt(6.0 / sum(param.shape))
                nn.init.uniform_(param, -bound, bound)

    def coefficients(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(U, d) attention coefficients for stacked embeddings of shape (U, n_nodes, d)."""
        if self.mode == "equal":
            return torch.full(embeddings.shape[::2], 1.0 / self.n_modals, device=embeddings.device)
        g = torch.einsum("un,und->ud", self.weight, embeddings) + self.bias
        return torch.softmax(g, dim=0) if self.mode == "softmax" else g

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        g = self.coefficients(embeddings)
        weighted = embeddings * g[:, None, :]
        return weighted.permute(1, 0, 2).reshape(embeddings.shape[1], -1)
