"""How AMMGC trains (SPEC section 2): the two stages, their samplers, threads and seeds, and the graph operator.

Stage 1 trains each modal's GCN alone (``train_encoder``: BCE over the training positives and each epoch's
sampled negatives); stage 2 trains the attention fusion on the frozen embeddings (``train_fusion``: weighted
BCE). Each modal and the attention stage draw negatives and dropout masks from their own seeded streams, so
``run_concurrently`` can train the modals side by side and the numbers do not depend on the thread count.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from typing import TypeVar

import numpy as np
import torch
from torch.nn import functional as F

from ammgc.errors import AmmgcError, TrainingError
from ammgc.models.graph import normalized_adjacency, normalized_adjacency_csr
from ammgc.models.layers import (
    AttentionFusion,
    Features,
    GCNEncoder,
    PairBatch,
    as_operator,
    node_inner_products,
    sampled_inner_products,
)
from ammgc.models.sampling import NegativeSampler

# Above this many nodes the dense (p+q)^2 adjacency is not built: its float32 temporaries alone would take
# several times 4 (p+q)^2 bytes (over 1 GB at 10x the benchmark), while Â has only 2N + p + q entries.
_DENSE_ADJACENCY_MAX_NODES = 4096


def adjacency_operator(train: np.ndarray, device: torch.device) -> torch.Tensor:
    """Â of the training graph as the operator the encoders multiply by: dense or CSR (see ``as_operator``)."""
    p, q = train.shape
    if p + q <= _DENSE_ADJACENCY_MAX_NODES:
        return as_operator(torch.from_numpy(normalized_adjacency(train)).to(device))
    matrix = normalized_adjacency_csr(train)
    return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                   torch.from_numpy(matrix.indices.astype(np.int64)),
                                   torch.from_numpy(matrix.data), size=matrix.shape,
                                   check_invariants=True).to(device)


def elapsed(start: float, device: torch.device) -> float:
    """Seconds since ``start``, after the device's queued work is done (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def torch_device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AmmgcError(f"device={name!r} was requested but no CUDA device is available")
    return device


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch's global generator seeded inside the block (layers draw their initial weights from it) and put back
    as it was after it, so fitting leaves the caller's random state alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class Stopped(Exception):
    """Raised in a modal's training when another modal failed or the run was interrupted."""


_T = TypeVar("_T")


def run_concurrently(task: Callable[[int, threading.Event], _T], n: int, threads: int, *,
                      order: Sequence[int]) -> list[_T]:
    """[task(0), ..., task(n - 1)] on up to ``threads`` threads, started in ``order``; the first error
    (or Ctrl-C) stops the other tasks at their next epoch and is raised."""
    stop = threading.Event()
    if threads <= 1 or n <= 1:
        return [task(k, stop) for k in range(n)]
    with ThreadPoolExecutor(max_workers=min(threads, n), thread_name_prefix="ammgc-modal") as pool:
        futures = {k: pool.submit(task, k, stop) for k in order}
        try:
            wait(futures.values(), return_when=FIRST_EXCEPTION)
        finally:
            if not all(f.done() and f.exception() is None for f in futures.values()):
                stop.set()
        failures = [f.exception() for f in futures.values()]
        # the first real failure, not another modal's reaction to it
        failure = next((e for e in failures if e is not None and not isinstance(e, Stopped)), None)
        if failure is not None:
            raise failure
        return [futures[k].result() for k in range(n)]


#: Per-drug and per-miRNA terms added to every training logit (``AMMGC._training_offset``).
Offset = tuple[torch.Tensor, torch.Tensor]


def sampler(train: np.ndarray, p_neg: float, seed: int, device: torch.device) -> NegativeSampler:
    """One stage's training pairs, from its own seeded stream; drawn with replacement, which needs no table of
    every zero at any size."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    return NegativeSampler(train, p_neg=p_neg, generator=generator, replace=True, device=device)


def _batch(pairs: NegativeSampler) -> PairBatch:
    """This epoch's positives, then its sampled negatives."""
    return PairBatch(pairs.pairs(), pairs.shape)


def _with_offset(logits: torch.Tensor, batch: PairBatch, offset: Offset | None) -> torch.Tensor:
    """The batch's logits plus each pair's fixed prior offset, where there is one."""
    if offset is None:
        return logits
    return logits + offset[0][batch.drugs] + offset[1][batch.mirnas]


def _check_loss(loss: torch.Tensor, stage: str, epoch: int) -> float:
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TrainingError(f"{stage}: loss became {value} at epoch {epoch + 1}; lower the learning rate "
                            f"or check the input features for extreme values")
    return value


def train_encoder(encoder: GCNEncoder, x: Features, adjacency: torch.Tensor, pairs: NegativeSampler, *,
                   offset: Offset | None = None, epochs: int, lr: float, name: str, stop: threading.Event
                   ) -> list[float]:
    """Stage 1 (loss L1): BCE over training positives and this epoch's sampled negatives."""
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr, fused=True)
    losses = []
    encoder.train()
    for epoch in range(epochs):
        if stop.is_set():
            raise Stopped
        batch = _batch(pairs)
        optimizer.zero_grad(set_to_none=True)
        embeddings = encoder(x, adjacency)
        logits = _with_offset(node_inner_products(embeddings, batch), batch, offset)
        loss = F.binary_cross_entropy_with_logits(logits, pairs.labels)
        loss.backward()
        optimizer.step()
        losses.append(_check_loss(loss, f"GCN sub-network ({name})", epoch))
    return losses


def train_fusion(fusion: AttentionFusion, stacked: torch.Tensor, pairs: NegativeSampler, *,
                  offset: Offset | None = None, epochs: int, lr: float, threads: int = 1) -> list[float]:
    """Stage 2 (loss L2): weighted BCE, pos_weight = (p*q - N_train) / N_train, embeddings frozen.

    Z_i . Z_j = sum over modals u and dimensions k of g_uk^2 E^u_ik E^u_jk, so a logit is a sampled inner
    product of the drug rows scaled by g^2 with the fixed miRNA rows: only g carries a gradient. With
    more than one thread (CPU), a helper samples the next epoch's pairs and computes half of the rows
    of each sparse product; the sampler is still called in order, so the numbers do not change.
    """
    params = list(fusion.parameters())
    if not params:
        return []
    optimizer = torch.optim.Adam(params, lr=lr, fused=True)
    n_drugs = pairs.shape[0]
    n_modals, n_nodes, dim = stacked.shape
    drug_rows = stacked[:, :n_drugs]
    mirna_rows = stacked[:, n_drugs:].permute(1, 0, 2).reshape(n_nodes - n_drugs, n_modals * dim)
    pos_weight = torch.tensor(pairs.n_zero / len(pairs.positives), device=stacked.device)
    losses = []
    helpers = threads > 1 and stacked.device.type == "cpu"
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ammgc-attention") if helpers else nullcontext() as pool:
        upcoming = pool.submit(_batch, pairs) if pool else None
        for epoch in range(epochs):
            if upcoming is not None and pool is not None:
                batch = upcoming.result()
                upcoming = pool.submit(_batch, pairs) if epoch + 1 < epochs else None
            else:
                batch = _batch(pairs)
            optimizer.zero_grad(set_to_none=True)
            g = fusion.coefficients(stacked)
            scaled = (drug_rows * (g * g)[:, None, :]).permute(1, 0, 2).reshape(n_drugs, n_modals * dim)
            logits = _with_offset(sampled_inner_products(scaled, mirna_rows, batch, pool=pool), batch, offset)
            loss = F.binary_cross_entropy_with_logits(logits, pairs.labels, pos_weight=pos_weight)
            loss.backward()
            optimizer.step()
            losses.append(_check_loss(loss, "attention network", epoch))
    return losses
