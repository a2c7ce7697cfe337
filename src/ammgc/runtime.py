"""Thread and process settings: use every core without oversubscribing, and stay deterministic.

Torch's CPU results change in the last digits with the number of threads for the baselines (scores
differed in the 8th decimal between 1 and 2 threads, enough to swap near-tied ranks), so a thread count
is never derived from the machine or its load: every training (a cross-validation fold, or a model on
all associations) gets ``training_threads()`` threads, 1 unless ``AMMGC_THREADS`` says otherwise, and
folds run in parallel processes (``--jobs``, one per core by default). AMMGC uses its threads to train
its modals side by side, each on one torch thread, so its scores are the same for any thread count
(``ammgc train`` with ``AMMGC_THREADS=2`` is twice as fast and identical). With more torch threads than
free cores torch's spinning thread pool slows training severalfold (measured here: one fold 80 s on 2
threads beside a busy job, 20 s on 1); AMMGC's modal threads do not spin.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ammgc.errors import AmmgcError


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def training_threads() -> int:
    """Torch threads of one training: 1, or ``AMMGC_THREADS``."""
    raw = os.environ.get("AMMGC_THREADS") or "1"
    if not raw.strip().isdigit() or int(raw) < 1:
        raise AmmgcError(f"AMMGC_THREADS must be a positive whole number, not {raw!r}")
    return int(raw)


def default_jobs() -> int:
    """Parallel fold processes when ``--jobs`` is not given: one per usable core."""
    return usable_cores()



@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Torch on ``n`` threads inside the block; the caller's setting is put back after it."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
