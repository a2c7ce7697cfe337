"""The training loop the gradient-trained baselines (GF, SDNE, GCMDR) share.

Adam on the method's parameters for its epochs; the loss is checked every epoch, so a diverging run stops
at once and says at which epoch, instead of running on with NaN parameters and failing after the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from ammgc.errors import TrainingError


def train_by_gradient(loss_of_epoch: Callable[[], torch.Tensor], parameters: Iterable[torch.Tensor], *,
                      epochs: int, lr: float, name: str) -> list[float]:
    """Minimise ``loss_of_epoch()`` (one full-batch loss per call) with Adam; returns the loss per epoch."""
    optimiser = torch.optim.Adam(list(parameters), lr=lr)
    losses: list[float] = []
    for epoch in range(1, epochs + 1):
        loss = loss_of_epoch()
        value = float(loss.detach())
        if not torch.isfinite(loss.detach()):
            raise TrainingError(f"{name} training diverged: the loss became {value} at epoch {epoch} of {epochs}; "
                                f"lower lr")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(value)
    return losses
