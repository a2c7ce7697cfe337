"""Where folds run: this machine's processes (``local``) or a Dask cluster (``dask``).

Every command that cross-validates (``cv``, ``compare``, ``tune``, ``experiment ...``) takes
``--executor dask`` and ``--scheduler ADDRESS``; the command sets them for its whole run with
``execution(...)`` and ``ammgc.evaluation.runner.cross_validate`` reads them, the way scikit-learn's
``config_context`` or joblib's ``parallel_backend`` work. On Dask each fold is one task: the dataset is sent
to the workers once, a fold whose worker is lost is retried (twice), and every finished fold comes back into
the run's fold store as it does locally (atomic, resumable, fingerprinted). A fold's numbers depend only on
its seed and its thread count (``AMMGC_THREADS``, 1 by default), so they are identical to a local run.

Without ``--scheduler`` a ``LocalCluster`` of ``--jobs`` worker processes is started for the run. A SLURM or
Kubernetes cluster is reached through its scheduler's address (dask-jobqueue, dask-kubernetes; see the docs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ammgc.errors import AmmgcError

EXECUTORS = ("local", "dask")
#: Attempts beyond the first for a fold whose worker died (Dask's ``retries``).
FOLD_RETRIES = 2
#: How long to keep trying to reach a scheduler given by address before saying it cannot be reached.
SCHEDULER_TIMEOUT_S = 10


@dataclass(frozen=True)
class Execution:
    kind: str = "local"
    scheduler: str | None = None


LOCAL = Execution()
_EXECUTION: ContextVar[Execution | None] = ContextVar("ammgc_execution", default=None)


def current_execution() -> Execution:
    return _EXECUTION.get() or LOCAL


def execution_of(executor: str | Execution) -> Execution:
    """An ``Execution`` from ``local``, ``dask`` or an ``Execution``."""
    if isinstance(executor, Execution):
        return executor
    if executor not in EXECUTORS:
        raise AmmgcError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    return Execution(executor)


@contextmanager
def execution(kind: str = "local", scheduler: str | None = None) -> Iterator[Execution]:
    """Run the cross-validations inside the block with ``kind`` (``local`` or ``dask``)."""
    kind = execution_of(kind).kind
    if scheduler is not None and kind != "dask":
        raise AmmgcError("scheduler is the address of a Dask scheduler: use it with the dask executor")
    chosen = Execution(kind, scheduler)
    token = _EXECUTION.set(chosen)
    try:
        yield chosen
    finally:
        _EXECUTION.reset(token)


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster of ``workers`` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AmmgcError("the dask executor needs dask.distributed: pip install 'ammgc[cluster]'") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise AmmgcError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        yield client


def run_on_dask(task: Callable[..., dict[str, Any]], shared: Any, items: list[Any], *, scheduler: str | None,
                workers: int, finish: Callable[[Any, dict[str, Any]], None]) -> None:
    """``task(shared, item)`` for every item on a Dask cluster; ``finish(item, result)`` as each one ends.

    ``shared`` (the dataset) is sent to the workers once. A failed task stops the run: the others are
    cancelled and its error is raised here.
    """
    from distributed import as_completed

    with dask_client(scheduler, workers) as client:
        [shared_future] = client.scatter([shared], broadcast=True)
        futures = {client.submit(task, shared_future, item, pure=False, retries=FOLD_RETRIES): item for item in items}
        try:
            for future in as_completed(futures):
                finish(futures[future], future.result())
        except BaseException:
            client.cancel(list(futures))
            raise
