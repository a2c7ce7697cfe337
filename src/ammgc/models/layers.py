"""Small torch modules, each doing one thing: a GCN layer, a per-modal encoder, attention fusion, a decoder.

The pieces that exist for speed (``benchmarks/bench_fold.py``; each is exact, only float rounding
differs): ``PaddedBlocks`` keeps a modal's zero padding implicit, ``Dropout`` draws its masks from its
own generator a byte per entry (torch's ``bernoulli_`` took 3x the time of the layer's matrix product),
``sampled_inner_products`` / ``node_inner_products`` score only the sampled pairs with sparse kernels
instead of gathering and scattering 2N embedding rows, and ``_SymmetricProduct`` skips transposing Â.

Why not PyTorch Geometric's ``GCNConv``: on a modal of the benchmark one training step of the two-layer
encoder takes 2.6x (modal 2, 1,917 features) to 4.0x (modal 3, 172 features) as long with two cached
``GCNConv`` layers as with this encoder, on one thread (``benchmarks/bench_pyg.py``, numbers in
``benchmarks/RESULTS.md``): the padding it multiplies, torch's dropout masks and the message passing over
an edge list cost more than the dense Â of a graph this small.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from torch import nn


def _spend_csr_beta_warning() -> None:
    """torch warns once per process that CSR support is "beta" (the CSR products used here are tested).
    Spend that one warning here, silenced, rather than filter warnings for the whole process: a
    ``catch_warnings`` block is not safe while modals train on several threads, so it runs at import."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.sparse_csr_tensor(torch.tensor([0, 0]), torch.zeros(0, dtype=torch.int64), torch.zeros(0), (1, 1))


_spend_csr_beta_warning()


def as_operator(matrix: torch.Tensor, *, sparse_below: float = 0.25) -> torch.Tensor:
    """Keep a matrix sparse (CSR) when few entries are non-zero: products then cost O(nnz), not O(n^2)."""
    density = float((matrix != 0).sum()) / max(1, matrix.numel())
    if density >= sparse_below or matrix.device.type != "cpu":
        return matrix
    return matrix.to_sparse_csr()


@dataclass(frozen=True)
class PaddedBlocks:
    """Node features [X_d; X_m] with the zero padding left implicit.

    Block k holds rows of the (n x width) feature matrix whose non-zero columns are
    ``offsets[k] .. offsets[k] + blocks[k].shape[1]``; the paper pads the narrower block with zeros in
    front, so a first layer multiplies each block by its slice of W and skips the zeros.
    """

    blocks: tuple[torch.Tensor, ...]
    offsets: tuple[int, ...]
    width: int

    @classmethod
    def stack(cls, drug: np.ndarray, mirna: np.ndarray, device: torch.device | str = "cpu") -> PaddedBlocks:
        """The blocks of ``graph.stack_modal(drug, mirna)``."""
        width = max(drug.shape[1], mirna.shape[1])
        blocks = tuple(torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)).to(device) for b in (drug, mirna))
        return cls(blocks, tuple(width - b.shape[1] for b in blocks), width)

    @property
    def shape(self) -> tuple[int, int]:
        return sum(b.shape[0] for b in self.blocks), self.width

    def dense(self) -> torch.Tensor:
        return torch.cat([nn.functional.pad(b, (o, self.width - o - b.shape[1]))
                          for b, o in zip(self.blocks, self.offsets, strict=True)])


Features = torch.Tensor | PaddedBlocks


class Dropout(nn.Module):
    """Inverted dropout whose masks come from its own seeded generator, for exactly reproducible training
    that does not depend on the global torch RNG (modals train concurrently on threads).

    ``mask`` returns the kept entries unscaled; the caller multiplies a linear layer's output by
    ``scale`` = 1 / (1 - p), which is the same as scaling the input and cheaper. On the CPU a mask costs
    one random byte per entry: bytes below floor(256 p) drop, bytes above keep, and the 1 in 256 entries
    on the boundary drop with probability frac(256 p), so P(drop) = p exactly.
    """

    def __init__(self, p: float, seed: int = 0) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be in [0, 1), not {p}")
        self.p = p
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.device_generators: dict[torch.device, torch.Generator] = {}
        self.seed = seed

    @property
    def scale(self) -> float:
        return 1.0 / (1.0 - self.p) if self.training and self.p else 1.0

    def mask(self, x: Features) -> Features:
        if not self.training or not self.p:
            return x
        if isinstance(x, PaddedBlocks):
            return PaddedBlocks(tuple(self._masked(b) for b in x.blocks), x.offsets, x.width)
        return self._masked(x)

    def _masked(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "cpu":
            keep = self._keep_bytes(x.numel()).reshape(x.shape)
            if not x.requires_grad:  # node features: numpy's multiply is 4x faster than torch.where here
                return torch.from_numpy(np.multiply(x.numpy(), keep, dtype=np.float32))
            return torch.where(torch.from_numpy(keep), x, 0.0)
        generator = self.device_generators.get(x.device)
        if generator is None:
            generator = torch.Generator(device=x.device).manual_seed(self.seed)
            self.device_generators[x.device] = generator
        return torch.where(torch.rand(x.shape, device=x.device, generator=generator) >= self.p, x, 0.0)

    def _keep_bytes(self, n: int) -> np.ndarray:
        threshold = self.p * 256
        edge_byte, edge_drop = int(threshold), threshold - int(threshold)
        draws = self.rng.bit_generator.random_raw(-(-n // 8)).view(np.uint8)[:n]
        keep = draws > edge_byte
        edge = np.flatnonzero(draws == edge_byte)
        keep[edge] = self.rng.random(len(edge)) >= edge_drop
        return keep


class _SymmetricProduct(torch.autograd.Function):
    """Â H for a constant symmetric Â: the backward pass is Â G, without torch transposing a sparse Â."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, adjacency: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        ctx.adjacency = adjacency  # type: ignore[attr-defined]
        return adjacency @ h

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, ctx.adjacency @ grad  # type: ignore[attr-defined]


class GCNLayer(nn.Module):
    """H' = Â (H W): one graph convolution (Kipf & Welling 2017) without bias, Glorot-initialised.
    Â must be symmetric (a normalised undirected adjacency, or the identity)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.weight.shape[0] + self.weight.shape[1]))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, h: Features, adjacency: torch.Tensor) -> torch.Tensor:
        if isinstance(h, PaddedBlocks):
            # a block as wide as W uses W itself: a slice would add a zero-filled gradient of W's size
            hw = torch.cat([b @ (self.weight if b.shape[1] == len(self.weight) else self.weight[o:o + b.shape[1]])
                            for b, o in zip(h.blocks, h.offsets, strict=True)])
        else:
            hw = h @ self.weight
        return _SymmetricProduct.apply(adjacency, hw)


class GCNEncoder(nn.Module):
    """A stack of GCN layers: dropout on every layer's input (features included, as the authors' code
    does), ReLU between layers, and the chosen activation on the last one."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], *, dropout: float = 0.1,
                 input_dropout: float | None = None, last_activation: str = "identity", seed: int = 0) -> None:
        super().__init__()
        sizes = (in_features, *hidden)
        self.layers = nn.ModuleList(GCNLayer(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = Dropout(dropout)
        self.input_dropout = Dropout(dropout if input_dropout is None else input_dropout)
        self.reseed(seed)
        if last_activation not in ("identity", "relu"):
            raise ValueError(f"last_activation must be 'identity' or 'relu', not {last_activation!r}")
        self.last_activation = last_activation

    def reseed(self, seed: int) -> None:
        """Seed the dropout masks (two independent streams: features, hidden layers)."""
        features_seed, hidden_seed = np.random.SeedSequence(seed).generate_state(2)
        self.input_dropout.reseed(int(features_seed))
        self.dropout.reseed(int(hidden_seed))

    def reset_parameters(self) -> None:
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: Features, adjacency: torch.Tensor) -> torch.Tensor:
        h: Features = x
        for k, layer in enumerate(self.layers):
            dropout = self.dropout if k else self.input_dropout
            out = layer(dropout.mask(h), adjacency)
            if dropout.scale != 1.0:
                out = out * dropout.scale
            h = torch.relu(out) if k < len(self.layers) - 1 else out
        assert isinstance(h, torch.Tensor)
        return torch.relu(h) if self.last_activation == "relu" else h


def inner_product_logits(embeddings: torch.Tensor, n_drugs: int) -> torch.Tensor:
    """Logits of every drug x miRNA pair: E_i . E_{p+j} (sigmoid gives the paper's score)."""
    return embeddings[:n_drugs] @ embeddings[n_drugs:].T


class PairBatch:
    """Sampled (drug, miRNA) pairs with the sparsity pattern the sparse decoder needs: the distinct pairs
    as a CSR pattern (drugs x miRNAs), each sampled pair's position among them (``inverse``), and, built
    only when a miRNA-side gradient asks for it, the transposed pattern."""

    def __init__(self, flat: torch.Tensor, shape: tuple[int, int]) -> None:
        """Pairs given as flat indices drug * q + miRNA of a p x q matrix."""
        p, q = shape
        self.shape = shape
        self.drugs, self.mirnas = flat // q, flat % q
        distinct, self.inverse = torch.unique(flat, sorted=True, return_inverse=True)
        self.rows, self.col = distinct // q, distinct % q
        self.crow = torch.searchsorted(self.rows, torch.arange(p + 1, device=flat.device))

    @cached_property
    def _transposed(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p, q = self.shape
        order = torch.argsort(self.col * p + self.rows)
        t_cols = self.col[order]
        return torch.searchsorted(t_cols, torch.arange(q + 1, device=t_cols.device)), self.rows[order], order

    def csr(self, values: torch.Tensor, *, transposed: bool = False) -> torch.Tensor:
        """A sparse matrix with ``values`` (one per distinct pair) on the pattern, or on its transpose."""
        p, q = self.shape
        # built above, so valid by construction: skip torch's O(nnz) invariant check each epoch
        if transposed:
            crow, col, order = self._transposed
            return torch.sparse_csr_tensor(crow, col, values[order], (q, p), check_invariants=False)
        return torch.sparse_csr_tensor(self.crow, self.col, values, (p, q), check_invariants=False)


def _sddmm(pattern: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sparse.sampled_addmm(pattern, a, b.T, beta=0.0).values()


def _by_row_halves(pool: Executor | None, batch: PairBatch, values: torch.Tensor,
                   work: Callable[[torch.Tensor, slice], torch.Tensor]) -> torch.Tensor:
    """``work(csr of values, rows)`` over all drug rows, or over two halves of the rows at once on ``pool``.
    Each entry / row is computed by the same kernel either way, so the numbers are identical."""
    if pool is None:
        return work(batch.csr(values), slice(None))
    p, q = batch.shape
    middle = int(torch.searchsorted(batch.crow, batch.crow[-1] // 2))
    cut = int(batch.crow[middle])
    top = torch.sparse_csr_tensor(batch.crow[:middle + 1], batch.col[:cut], values[:cut], (middle, q),
                                  check_invariants=False)
    bottom = torch.sparse_csr_tensor(batch.crow[middle:] - cut, batch.col[cut:], values[cut:], (p - middle, q),
                                     check_invariants=False)
    later = pool.submit(work, bottom, slice(middle, None))
    return torch.cat([work(top, slice(None, middle)), later.result()])


def _sampled_values(a: torch.Tensor, b: torch.Tensor, batch: PairBatch, pool: Executor | None) -> torch.Tensor:
    zeros = torch.zeros(len(batch.col), dtype=a.dtype, device=a.device)
    return _by_row_halves(pool, batch, zeros, lambda pattern, rows: _sddmm(pattern, a[rows], b))[batch.inverse]


def _pair_gradients(batch: PairBatch, grad: torch.Tensor) -> torch.Tensor:
    # repeated pairs add their gradients, as gathering rows and scattering back would
    return torch.zeros(len(batch.col), dtype=grad.dtype, device=grad.device).index_add_(0, batch.inverse, grad)


class _SampledInnerProducts(torch.autograd.Function):
    """a_i . b_j for the sampled pairs (i, j): an SDDMM forward, two sparse-dense products backward."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, a: torch.Tensor, b: torch.Tensor,
                batch: PairBatch, pool: Executor | None) -> torch.Tensor:
        ctx.save_for_backward(a, b)
        ctx.batch, ctx.pool = batch, pool  # type: ignore[attr-defined]
        return _sampled_values(a, b, batch, pool)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None]:
        a, b = ctx.saved_tensors  # type: ignore[attr-defined]
        batch: PairBatch = ctx.batch  # type: ignore[attr-defined]
        values = _pair_gradients(batch, grad)
        grad_a = (_by_row_halves(ctx.pool, batch, values, lambda matrix, _: matrix @ b)  # type: ignore[attr-defined]
                  if ctx.needs_input_grad[0] else None)
        grad_b = batch.csr(values, transposed=True) @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None, None


class _NodeInnerProducts(torch.autograd.Function):
    """``_SampledInnerProducts`` of the drug rows and the miRNA rows of one embedding matrix, whose
    gradient is built in one piece (two row slices would each cost a zero-filled full-size gradient)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, embeddings: torch.Tensor, batch: PairBatch
                ) -> torch.Tensor:
        ctx.save_for_backward(embeddings)
        ctx.batch = batch  # type: ignore[attr-defined]
        n_drugs = batch.shape[0]
        return _sampled_values(embeddings[:n_drugs], embeddings[n_drugs:], batch, None)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (embeddings,) = ctx.saved_tensors  # type: ignore[attr-defined]
        batch: PairBatch = ctx.batch  # type: ignore[attr-defined]
        values = _pair_gradients(batch, grad)
        n_drugs = batch.shape[0]
        return torch.cat([batch.csr(values) @ embeddings[n_drugs:],
                          batch.csr(values, transposed=True) @ embeddings[:n_drugs]]), None


def sampled_inner_products(a: torch.Tensor, b: torch.Tensor, batch: PairBatch, *,
                           pool: Executor | None = None) -> torch.Tensor:
    """Logits a[drugs[k]] . b[mirnas[k]] of a batch of pairs, computed sparsely (cost ~ pairs x width).
    With a ``pool`` (one idle worker thread, CPU) the drug rows are split in two halves computed at once."""
    return _SampledInnerProducts.apply(a, b, batch, pool)


def node_inner_products(embeddings: torch.Tensor, batch: PairBatch) -> torch.Tensor:
    """``sampled_inner_products(embeddings[:p], embeddings[p:], batch)`` of stacked (p + q) node rows."""
    return _NodeInnerProducts.apply(embeddings, batch)


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
