"""The exact reformulations behind the model's speed: each must equal the plain computation."""

import threading

import numpy as np
import pytest
import torch

from ammgc.models.ammgc import AMMGC
from ammgc.models.graph import stack_modal
from ammgc.models.layers import (
    AttentionFusion,
    Dropout,
    GCNEncoder,
    GCNLayer,
    PaddedBlocks,
    PairBatch,
    node_inner_products,
    sampled_inner_products,
)
from ammgc.models.training import Stopped, run_concurrently, sampler, train_fusion


def test_padded_blocks_equal_the_zero_padded_matrix() -> None:
    rng = np.random.default_rng(0)
    drug, mirna = rng.random((3, 7)), rng.random((5, 4))
    blocks = PaddedBlocks.stack(drug, mirna)
    dense = torch.from_numpy(stack_modal(drug, mirna))
    assert blocks.shape == tuple(dense.shape) == (8, 7)
    torch.testing.assert_close(blocks.dense(), dense)
    layer = GCNLayer(7, 6)
    adjacency = torch.eye(8) * 0.5 + torch.full((8, 8), 0.05)
    torch.testing.assert_close(layer(blocks, adjacency), layer(dense, adjacency))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.37, 0.0039])
def test_dropout_drops_each_entry_with_probability_p(p: float) -> None:
    n = 2_000_000
    dropout = Dropout(p, seed=1)
    kept = dropout.mask(torch.ones(n)).mean().item()
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs((1 - kept) - p) < 5 * sigma
    assert dropout.scale == pytest.approx(1 / (1 - p))


def test_dropout_is_reproducible_and_off_in_eval() -> None:
    x = torch.rand(50, 40)
    a, b = Dropout(0.3, seed=4).mask(x), Dropout(0.3, seed=4).mask(x)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, Dropout(0.3, seed=5).mask(x))
    same_seed_grad = Dropout(0.3, seed=4).mask(x.clone().requires_grad_())
    torch.testing.assert_close(same_seed_grad.detach(), a)  # autograd and numpy paths draw the same mask
    off = Dropout(0.3, seed=4).eval()
    assert off.mask(x) is x and off.scale == 1.0


def test_sampled_inner_products_match_gathering_rows_with_repeated_pairs() -> None:
    torch.manual_seed(0)
    a = torch.randn(4, 6, dtype=torch.double, requires_grad=True)
    b = torch.randn(5, 6, dtype=torch.double, requires_grad=True)
    flat = torch.tensor([3, 3, 0, 19, 7, 12, 3, 19])  # repeated pairs, unsorted
    batch = PairBatch(flat, (4, 5))
    expected = (a[flat // 5] * b[flat % 5]).sum(dim=1)
    torch.testing.assert_close(sampled_inner_products(a, b, batch), expected)
    assert torch.autograd.gradcheck(lambda x, y: sampled_inner_products(x, y, batch), (a, b))


def test_attention_stage_logits_equal_those_of_the_fused_embeddings() -> None:
    """Z_i . Z_j with Z = ||_u E^u diag(g^u) equals the g^2-weighted sampled products used in training."""
    torch.manual_seed(0)
    stacked = torch.randn(3, 9, 5)
    fusion = AttentionFusion(3, 9, 5)
    flat = torch.tensor([0, 5, 7, 11, 17])
    batch = PairBatch(flat, (3, 6))
    fused = fusion(stacked)
    expected = (fused[batch.drugs] * fused[3 + batch.mirnas]).sum(dim=1)
    g = fusion.coefficients(stacked)
    scaled = (stacked[:, :3] * (g * g)[:, None, :]).permute(1, 0, 2).reshape(3, 15)
    mirna_rows = stacked[:, 3:].permute(1, 0, 2).reshape(6, 15)
    torch.testing.assert_close(sampled_inner_products(scaled, mirna_rows, batch), expected)


def test_attention_training_reduces_its_loss() -> None:
    train = np.zeros((6, 8), dtype=np.float32)
    train[np.arange(6), np.arange(6)] = 1
    torch.manual_seed(0)
    stacked = torch.randn(2, 14, 4)
    stacked[0, np.arange(6)] = stacked[0, 6 + np.arange(6)] * 3  # modal 1 knows the pairs, modal 2 is noise
    fusion = AttentionFusion(2, 14, 4)
    pairs = sampler(train, 1, 0, torch.device("cpu"))
    losses = train_fusion(fusion, stacked, pairs, epochs=150, lr=0.05)
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert fusion.coefficients(stacked)[0].mean() > 0.5


def test_scores_do_not_depend_on_the_number_of_threads(planted) -> None:
    config = {"epochs_gcn": 12, "epochs_attention": 12, "hidden": (8, 8)}
    results = []
    for threads in (1, 2, 3):
        torch.set_num_threads(threads)
        try:
            model = AMMGC(**config).fit(planted, seed=3)
        finally:
            torch.set_num_threads(1)
        assert model.threads_ == threads
        results.append(model.predict_scores())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_a_failing_modal_stops_the_others_and_its_error_is_raised() -> None:
    started = threading.Barrier(2)

    def task(k: int, stop: threading.Event) -> int:
        started.wait(timeout=10)
        if k == 1:
            raise ValueError("modal 2 diverged")
        for _ in range(1000):
            if stop.is_set():
                raise Stopped
            threading.Event().wait(0.01)
        return k

    with pytest.raises(ValueError, match="modal 2 diverged"):
        run_concurrently(task, 2, 2, order=[0, 1])


def test_encoder_dropout_streams_follow_its_seed() -> None:
    x = torch.rand(6, 5)
    a, b = GCNEncoder(5, (4,), seed=7), GCNEncoder(5, (4,), seed=7)
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a.train()(x, torch.eye(6)), b.train()(x, torch.eye(6)))


def test_row_split_sparse_products_give_identical_numbers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(1)
    a = torch.randn(30, 16, requires_grad=True)
    b = torch.randn(40, 16)
    batch = PairBatch(torch.randint(0, 30 * 40, (300,)), (30, 40))
    weights = torch.randn(300)
    results = []
    with ThreadPoolExecutor(1) as pool:
        for helper in (None, pool):
            a.grad = None
            logits = sampled_inner_products(a, b, batch, pool=helper)
            (logits * weights).sum().backward()
            results.append((logits.detach(), a.grad.clone()))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


def test_node_inner_products_equal_the_two_slices() -> None:
    torch.manual_seed(2)
    embeddings = torch.randn(9, 5, dtype=torch.double, requires_grad=True)
    batch = PairBatch(torch.tensor([0, 5, 5, 11, 17, 3]), (3, 6))
    torch.testing.assert_close(node_inner_products(embeddings, batch),
                               sampled_inner_products(embeddings[:3], embeddings[3:], batch))
    assert torch.autograd.gradcheck(lambda e: node_inner_products(e, batch), (embeddings,))
