"""Thread and process settings: use every core without oversubscribing, and stay deterministic.

Torch's CPU results change in the last digits with the number of threads, so thread counts are never
derived from the machine's load: a cross-validation fold always runs on one thread (folds run in
parallel processes, ``--jobs``, one per core by default), and a single training (train, predict,
experiments on all associations) uses one thread per core. ``AMMGC_THREADS`` overrides both.
With more threads than free cores torch's spinning thread pool slows training severalfold (measured
here: a fold ran 2x faster on 1 thread than on 2 while another process held a core).
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _override() -> int | None:
    value = os.environ.get("AMMGC_THREADS")
    return max(1, int(value)) if value else None


def fold_threads() -> int:
    """Torch threads of one cross-validation fold: 1, or ``AMMGC_THREADS``."""
    return _override() or 1


def default_jobs() -> int:
    """Parallel fold processes when ``--jobs`` is not given: one per usable core."""
    return usable_cores()


def configure_threads(jobs: int = 1) -> int:
    """Set torch's threads for work running in ``jobs`` processes side by side: cores // jobs."""
    import torch

    threads = _override() or max(1, usable_cores() // max(1, jobs))
    torch.set_num_threads(threads)
    return threads
