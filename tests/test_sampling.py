"""The negative sampler of AMMGC, gf and gcmdr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ammgc.errors import TrainingError
from ammgc.models.sampling import NegativeSampler


def small_train() -> np.ndarray:
    train = np.zeros((6, 9), dtype=np.uint8)
    train[[0, 1, 2, 3], [0, 4, 8, 2]] = 1
    return train


@pytest.mark.parametrize("replace", [True, False])
def test_negatives_come_only_from_training_zeros(replace: bool) -> None:
    train = small_train()
    sampler = NegativeSampler(train, p_neg=2.0, generator=torch.Generator().manual_seed(0), replace=replace)
    for _ in range(20):
        drugs, mirnas, labels = sampler.batch()
        assert labels.sum() == 4 and len(labels) == 12
        np.testing.assert_array_equal(train[drugs.numpy(), mirnas.numpy()], labels.numpy())
        negatives = set(zip(drugs[labels == 0].tolist(), mirnas[labels == 0].tolist(), strict=True))
        assert replace or len(negatives) == 8
    mask = sampler.mask().reshape(train.shape)
    assert (mask[train == 1] == 1).all() and (mask.sum() == 12 or replace)


def test_with_replacement_draws_the_zeros_a_table_of_them_would_give() -> None:
    """The k-th zero found by search over the positives is the k-th entry of the table of every zero."""
    train = small_train()
    sampler = NegativeSampler(train, p_neg=10.0, generator=torch.Generator().manual_seed(3), replace=True)
    picks = torch.randint(sampler.n_zero, (sampler.n_neg,), generator=torch.Generator().manual_seed(3))
    zeros = np.flatnonzero(train.ravel() == 0)
    np.testing.assert_array_equal(sampler.negatives().numpy(), zeros[picks.numpy()])


def test_distinct_negatives_stop_at_the_number_of_zeros() -> None:
    train = np.ones((3, 4), dtype=np.uint8)
    train[0, :2] = 0
    distinct = NegativeSampler(train, p_neg=1.0, generator=torch.Generator().manual_seed(0), replace=False)
    assert distinct.n_neg == 2 and sorted(distinct.negatives().tolist()) == [0, 1]
    drawn = NegativeSampler(train, p_neg=1.0, generator=torch.Generator().manual_seed(0), replace=True)
    assert drawn.n_neg == 10 and set(drawn.negatives().tolist()) <= {0, 1}


def test_a_matrix_without_positives_is_refused() -> None:
    with pytest.raises(TrainingError, match="no positive pair"):
        NegativeSampler(np.zeros((2, 3)), p_neg=1.0, generator=torch.Generator(), replace=True)
