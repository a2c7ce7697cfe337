"""AMMGC (Niu et al. 2022, section 3): multimodal GCN sub-networks fused by attention.

Modals are every (drug view x miRNA view) pair, the paper's four by default:
X1 = [fingerprint; expression], X2 = [fingerprint; GO], X3 = [smiles_code; expression],
X4 = [smiles_code; GO], where GO is replaced by the miRBase ``sequence`` view when the GO
file is absent (and every result says so). Training is two-stage (SPEC section 2): each modal's
GCN is trained alone on BCE over training positives and per-epoch negatives (``ammgc.models.sampling``,
drawn with replacement); its embeddings are frozen; then the attention fusion is trained with weighted
BCE (pos_weight = (p*q - N_train) / N_train) on positives and freshly sampled negatives, as in the
authors' code.

Each modal and the attention stage draw negatives and dropout masks from their own seeded streams, so
the modals train concurrently on ``torch.get_num_threads()`` threads, each running torch on one thread,
and the scores are the same for any number of threads.

Ablation variants of the paper's Table 2 are configurations of this one class:
``fusion="equal"`` (w/o attention), ``node_features="onehot"`` (w/o biological features),
``node_features="concat"`` (w/o multimodal: one GCN on all features concatenated), and
``modals=(k,)`` (a single modal).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
from torch.nn import functional as F

from ammgc.data.dataset import Dataset
from ammgc.data.publications import ACTIVITY_COUNTS, PUBLICATIONS_USE, counted_as, node_activity
from ammgc.errors import AmmgcError, TrainingError
from ammgc.methods import Method, PublicationsUse
from ammgc.models.graph import normalized_adjacency, normalized_adjacency_csr, row_normalize, stack_modal
from ammgc.models.layers import (
    AttentionFusion,
    Features,
    GCNEncoder,
    PaddedBlocks,
    PairBatch,
    as_operator,
    inner_product_logits,
    node_inner_products,
    sampled_inner_products,
)
from ammgc.models.network import ActivityDecoder, AMMGCNet
from ammgc.models.sampling import NegativeSampler
from ammgc.params import (
    EPOCHS,
    LEARNING_RATE,
    NEGATIVE_RATIO,
    NON_NEGATIVE,
    Device,
    Names,
    Number,
    OneOf,
    Optional,
    Sizes,
)


@dataclass
class ModalSpec:
    """One modal: its name and the views its drug and miRNA rows come from."""

    name: str
    drug_views: tuple[str, ...]
    mirna_views: tuple[str, ...]


class AMMGC(Method):
    name = "ammgc"
    uses_features = True

    @dataclass
    class Config:
        """Hyper-parameters. Defaults were chosen on training data only. The paper's hidden sizes 128/256
        beat the authors' code's 256/256 on an inner split of the pair protocol
        (``benchmarks/select_defaults.py``). Epochs and the activity prior were chosen by inner validation
        under the study and time protocols (``benchmarks/tune_defaults.py``, docs/tuning.md), where both
        chose the same point: 50 GCN and 100 attention epochs (the paper's 400/1000 overfit the
        training studies), activity counted in publications where the dataset has them
        (``prior_counts="auto"``), a prior of weight 4 at scoring and an offset of weight 2 during
        training. The paper-faithful configuration is the preset ``ammgc-paper`` (400/1000 epochs, no
        prior)."""

        drug_views: tuple[str, ...] = ("fingerprint", "smiles_code")
        mirna_views: tuple[str, ...] = ("expression", "go")
        modals: tuple[int, ...] | None = None
        node_features: str = "biological"
        fusion: str = "softmax"
        hidden: tuple[int, ...] = (128, 256)
        last_activation: str = "identity"
        dropout: float = 0.1
        input_dropout: float = 0.1
        p_neg: float = 1.0
        epochs_gcn: int = 50
        epochs_attention: int = 100
        degree_prior: float = 4.0
        prior_counts: str = "auto"
        prior_in_training: float = 2.0
        lr: float = 0.01
        device: str = "cpu"

    parameters = {
        "drug_views": Names(), "mirna_views": Names(), "modals": Optional(Sizes(1, 64)),
        "node_features": OneOf(("biological", "onehot", "concat")), "fusion": OneOf(("softmax", "linear", "equal")),
        "hidden": Sizes(), "last_activation": OneOf(("identity", "relu")), "dropout": Number(0, 1, open_high=True),
        "input_dropout": Number(0, 1, open_high=True), "p_neg": NEGATIVE_RATIO, "epochs_gcn": EPOCHS,
        "epochs_attention": EPOCHS, "degree_prior": NON_NEGATIVE, "prior_counts": OneOf(ACTIVITY_COUNTS),
        "prior_in_training": NON_NEGATIVE, "lr": LEARNING_RATE, "device": Device(),
    }

    def publications_use(self) -> PublicationsUse:
        if not (self.config.degree_prior or self.config.prior_in_training):
            return "unused"
        return PUBLICATIONS_USE.get(self.config.prior_counts, "unused")  # type: ignore[return-value]

    def modal_specs(self, dataset: Dataset) -> list[ModalSpec]:
        """The modals this configuration trains, with the GO view resolved to what is present."""
        from ammgc.features import go_view_name

        c = self.config
        mirna_views = tuple(go_view_name(dataset) if v == "go" else v for v in c.mirna_views)
        if c.node_features == "onehot":
            return [ModalSpec("one-hot", (), ())]
        if c.node_features == "concat":
            return [ModalSpec("concatenated", tuple(c.drug_views), mirna_views)]
        specs = [ModalSpec(f"modal {k + 1}", (d,), (m,))
                 for k, (d, m) in enumerate((d, m) for d in c.drug_views for m in mirna_views)]
        if c.modals is not None:
            bad = [k for k in c.modals if not 1 <= k <= len(specs)]
            if bad:
                raise AmmgcError(f"modal numbers {bad} out of range 1..{len(specs)}")
            specs = [specs[k - 1] for k in c.modals]
        return specs

    def views_used(self, dataset: Dataset) -> dict[str, object]:
        specs = self.modal_specs(dataset)
        drug = sorted({v for s in specs for v in s.drug_views})
        mirna = sorted({v for s in specs for v in s.mirna_views})
        c = self.config
        counts = counted_as(c.prior_counts, dataset.publications) if c.degree_prior or c.prior_in_training else "none"
        return {"drug": drug, "mirna": mirna, "go_substitute": "sequence" in mirna and "go" not in dataset.views,
                "modals": [{"name": s.name, "drug": list(s.drug_views), "mirna": list(s.mirna_views)}
                           for s in specs], "prior_counts": counts}

    def modal_features(self, dataset: Dataset, spec: ModalSpec) -> np.ndarray:
        """Row-normalised, stacked (p+q) x width node features of one modal."""
        if not spec.drug_views:
            return np.eye(dataset.n_drugs + dataset.n_mirnas, dtype=np.float32)
        return stack_modal(*self._modal_blocks(dataset, spec))

    def _modal_blocks(self, dataset: Dataset, spec: ModalSpec) -> tuple[np.ndarray, np.ndarray]:
        drug = np.hstack([row_normalize(dataset.view(v).matrix) for v in spec.drug_views])
        mirna = np.hstack([row_normalize(dataset.view(v).matrix) for v in spec.mirna_views])
        return drug, mirna

    def encoder_input(self, dataset: Dataset, spec: ModalSpec, device: torch.device) -> Features:
        """``modal_features`` as the encoder takes it: the blocks without their zero padding."""
        if not spec.drug_views:
            return torch.from_numpy(self.modal_features(dataset, spec)).to(device)
        return PaddedBlocks.stack(*self._modal_blocks(dataset, spec), device=device)

    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        c = self.config
        specs = self.modal_specs(dataset)
        # the model reads views, it never computes or downloads them (that is ensure_views', before fit)
        missing = sorted({v for s in specs for v in (*s.drug_views, *s.mirna_views)} - set(dataset.views))
        if missing:
            raise AmmgcError(f"the dataset has no view(s) {missing}: compute them before fit with "
                             f"ammgc.features.ensure_views(dataset, {missing}) (it needs miRBase for 'sequence')")
        device = _device(c.device)
        train = np.asarray(train, dtype=np.float32)
        self.n_drugs = train.shape[0]
        # log(1 + activity) per drug and per miRNA; score() adds their outer sum block by block, never all p x q
        drug_activity, mirna_activity, self.prior_counts_ = node_activity(train, dataset.publications,
                                                                          c.prior_counts)
        drug_prior, mirna_prior = np.log1p(drug_activity), np.log1p(mirna_activity)
        offset = self._training_offset(drug_prior, mirna_prior, device)
        adjacency = _adjacency_operator(train, device)
        streams = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(2 * len(specs) + 1)]
        encoders: list[GCNEncoder] = []
        inputs: list[Features] = []
        for k, spec in enumerate(specs):
            inputs.append(self.encoder_input(dataset, spec, device))
            torch.manual_seed((seed * 7919 + k) % 2**63)
            encoders.append(GCNEncoder(inputs[-1].shape[1], tuple(c.hidden), dropout=c.dropout,
                                       input_dropout=c.input_dropout, last_activation=c.last_activation,
                                       seed=streams[2 * k]).to(device))

        def train_modal(k: int, stop: threading.Event) -> tuple[list[float], torch.Tensor, float]:
            start = time.perf_counter()
            pairs = _sampler(train, c.p_neg, streams[2 * k + 1], device)
            encoder = encoders[k]
            losses = _train_encoder(encoder, inputs[k], adjacency, pairs, offset=offset, epochs=c.epochs_gcn, lr=c.lr,
                                    name=specs[k].name, stop=stop)
            encoder.eval()
            with torch.no_grad():
                embeddings = encoder(inputs[k], adjacency).detach()
            return losses, embeddings, _elapsed(start, device)

        # modals train side by side, each on one torch thread. The attention stage runs torch on one thread
        # too (some of its kernels round differently on two), and uses the others to sample ahead and to
        # split its sparse products by rows, which gives the same numbers
        threads = torch.get_num_threads()
        with _torch_threads(1):
            trained = _run_concurrently(train_modal, len(specs), threads,
                                        order=sorted(range(len(specs)), key=lambda k: -inputs[k].shape[1]))
            self.modal_losses_ = [losses for losses, _, _ in trained]
            self.timings_ = {spec.name: seconds for spec, (_, _, seconds) in zip(specs, trained, strict=True)}
            start = time.perf_counter()
            stacked = torch.stack([embeddings for _, embeddings, _ in trained])
            torch.manual_seed((seed * 7919 + 97) % 2**63)
            fusion = AttentionFusion(len(specs), stacked.shape[1], stacked.shape[2], mode=c.fusion).to(device)
            pairs = _sampler(train, c.p_neg, streams[-1], device)
            self.attention_losses_ = _train_fusion(fusion, stacked, pairs, offset=offset, epochs=c.epochs_attention,
                                                   lr=c.lr, threads=threads)
            with torch.no_grad():
                coefficients = fusion.coefficients(stacked)
            self.timings_["attention"] = _elapsed(start, device)
        decoder = ActivityDecoder(drug_prior, mirna_prior, c.degree_prior).to(device)
        self.network_ = AMMGCNet(encoders, fusion, decoder, stacked, coefficients, self.n_drugs)
        self.threads_ = threads
        self.modal_names_ = [s.name for s in specs]

    def _training_offset(self, drug_prior: np.ndarray, mirna_prior: np.ndarray, device: torch.device
                         ) -> _Offset | None:
        """Per-drug and per-miRNA terms added to every training logit (``prior_in_training``), centred so the
        mean pair's offset is 0: the embeddings then learn what the activity prior does not explain."""
        weight = self.config.prior_in_training
        if not weight:
            return None
        drug, mirna = (torch.from_numpy(np.asarray(weight * (p - p.mean()), dtype=np.float32)).to(device)
                       for p in (drug_prior, mirna_prior))
        return drug, mirna

    # --- what fit leaves, read from the network -------------------------------------------------------

    @property
    def encoders_(self) -> list[GCNEncoder]:
        return list(self.network_.encoders)

    @property
    def fusion_(self) -> AttentionFusion:
        return self.network_.fusion

    @property
    def embeddings_(self) -> list[torch.Tensor]:
        return list(self.network_.embeddings)

    @property
    def coefficients_(self) -> np.ndarray:
        return self.network_.coefficients.cpu().numpy()

    @property
    def drug_prior_(self) -> np.ndarray:
        """log(1 + activity) of each training drug."""
        return self.network_.decoder.drug_prior.cpu().numpy()

    @property
    def mirna_prior_(self) -> np.ndarray:
        return self.network_.decoder.mirna_prior.cpu().numpy()

    def _score(self) -> np.ndarray:
        """Z_i . Z_{p+j} + degree_prior * (log(1 + a_i) + log(1 + a_j)), a = activity in the training graph.

        The logit of the paper's eq. 5 (its sigmoid, with ``degree_prior = 0``): a ranking key, not a
        probability. The sigmoid itself is not returned because it rounds every logit above ~37 to
        exactly 1.0 in float64, which ties the top of the ranking. A positive weight adds a fixed
        log-activity term: the benchmark's associations concentrate on a few drugs, which the
        inner-product decoder under-weights after negative sampling (sampling makes every drug look
        equally active). Activity counts training pairs (the degree) or, with ``prior_counts``
        ``studies`` / ``auto``, the publications that first reported them, which one high-throughput
        study does not inflate.
        """
        return self._block_scores(self.network_.fused, 0, self.n_drugs)

    def score_blocks(self, max_entries: int = 2**24) -> Iterator[tuple[int, np.ndarray]]:
        """(first drug row, scores of a block of drug rows x every miRNA), in row order.

        The numbers of ``score()`` (up to float rounding in the last digit), a block at a time: the dense
        p x q matrix costs 8 bytes a pair and about three times that while computed, which stops fitting
        in memory around 10^9 pairs (the 100x synthetic benchmark, ``benchmarks/bench_scale.py``).
        """
        fused = self.network_.fused  # once: every block reads it
        rows = max(1, max_entries // max(1, fused.shape[0] - self.n_drugs))
        for start in range(0, self.n_drugs, rows):
            yield start, self._block_scores(fused, start, min(start + rows, self.n_drugs))

    @property
    def _logits(self) -> np.ndarray:
        """Decoder logits Z_i . Z_{p+j} of every pair (p x q, float64), without the degree prior."""
        fused = self.network_.fused
        with torch.no_grad():
            return (fused[:self.n_drugs] @ fused[self.n_drugs:].T).cpu().numpy().astype(np.float64)

    def _block_scores(self, fused: torch.Tensor, start: int, stop: int) -> np.ndarray:
        with torch.no_grad():
            return self.network_(start, stop, fused=fused).cpu().numpy()

    def modal_scores(self) -> list[np.ndarray]:
        """Each modal's own logits E_i . E_{p+j} (paper eq. 3 before its sigmoid; ranking keys, see ``score``)."""
        return [inner_product_logits(e, self.n_drugs).cpu().numpy().astype(np.float64) for e in self.embeddings_]


# Above this many nodes the dense (p+q)^2 adjacency is not built: its float32 temporaries alone would take
# several times 4 (p+q)^2 bytes (over 1 GB at 10x the benchmark), while Â has only 2N + p + q entries.
_DENSE_ADJACENCY_MAX_NODES = 4096


def _adjacency_operator(train: np.ndarray, device: torch.device) -> torch.Tensor:
    """Â of the training graph as the operator the encoders multiply by: dense or CSR (see ``as_operator``)."""
    p, q = train.shape
    if p + q <= _DENSE_ADJACENCY_MAX_NODES:
        return as_operator(torch.from_numpy(normalized_adjacency(train)).to(device))
    matrix = normalized_adjacency_csr(train)
    return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                   torch.from_numpy(matrix.indices.astype(np.int64)),
                                   torch.from_numpy(matrix.data), size=matrix.shape,
                                   check_invariants=True).to(device)


def _elapsed(start: float, device: torch.device) -> float:
    """Seconds since ``start``, after the device's queued work is done (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def _device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AmmgcError("--device cuda was requested but no CUDA device is available")
    return device


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _Stopped(Exception):
    """Raised in a modal's training when another modal failed or the run was interrupted."""


_T = TypeVar("_T")


def _run_concurrently(task: Callable[[int, threading.Event], _T], n: int, threads: int, *,
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
        failure = next((e for e in failures if e is not None and not isinstance(e, _Stopped)), None)
        if failure is not None:
            raise failure
        return [futures[k].result() for k in range(n)]


#: Per-drug and per-miRNA terms added to every training logit (``AMMGC._training_offset``).
_Offset = tuple[torch.Tensor, torch.Tensor]


def _sampler(train: np.ndarray, p_neg: float, seed: int, device: torch.device) -> NegativeSampler:
    """One stage's training pairs, from its own seeded stream; drawn with replacement, which needs no table of
    every zero at any size."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    return NegativeSampler(train, p_neg=p_neg, generator=generator, replace=True, device=device)


def _batch(pairs: NegativeSampler) -> PairBatch:
    """This epoch's positives, then its sampled negatives."""
    return PairBatch(pairs.pairs(), pairs.shape)


def _with_offset(logits: torch.Tensor, batch: PairBatch, offset: _Offset | None) -> torch.Tensor:
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


def _train_encoder(encoder: GCNEncoder, x: Features, adjacency: torch.Tensor, pairs: NegativeSampler, *,
                   offset: _Offset | None = None, epochs: int, lr: float, name: str, stop: threading.Event
                   ) -> list[float]:
    """Stage 1 (loss L1): BCE over training positives and this epoch's sampled negatives."""
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr, fused=True)
    losses = []
    encoder.train()
    for epoch in range(epochs):
        if stop.is_set():
            raise _Stopped
        batch = _batch(pairs)
        optimizer.zero_grad(set_to_none=True)
        embeddings = encoder(x, adjacency)
        logits = _with_offset(node_inner_products(embeddings, batch), batch, offset)
        loss = F.binary_cross_entropy_with_logits(logits, pairs.labels)
        loss.backward()
        optimizer.step()
        losses.append(_check_loss(loss, f"GCN sub-network ({name})", epoch))
    return losses


def _train_fusion(fusion: AttentionFusion, stacked: torch.Tensor, pairs: NegativeSampler, *,
                  offset: _Offset | None = None, epochs: int, lr: float, threads: int = 1) -> list[float]:
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
