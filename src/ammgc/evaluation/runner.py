"""Cross-validation: a method object under a splitter object -> per-fold records, resumable, optionally parallel."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, MethodError
from ammgc.evaluation.cluster import Execution, current_execution, execution_of, run_on_dask
from ammgc.evaluation.metrics import DRUG_TOP_K, METRICS, evaluate_scores
from ammgc.evaluation.splits import Fold, PairSplit, Splitter
from ammgc.evaluation.store import FoldStore, shared_store
from ammgc.runtime import torch_threads, training_threads

log = logging.getLogger(__name__)

CURVE_POINTS = 201
#: The version of a stored fold record (this one: ranking metrics, scores as logits); a stored fold of another
#: version is redone, not mixed in. It changes with anything that makes a fresh fold differ from a stored one (a
#: metric added or computed differently, scores ranked differently), not with a field that reports read only where
#: present (``prevalence``).
RECORD_VERSION = 2


@dataclass
class CVResult:
    """The folds of one method under one protocol, with their means (``mean``), standard deviations (``std``)
    and standard errors (``sem``), each a dict keyed by metric (``auc``, ``ap``, ``aupr``, ``drug_ap``, ...)."""

    method: str
    config: dict[str, Any]
    split: str
    folds: list[dict[str, Any]] = field(default_factory=list)
    #: the splitter's parameters
    cv: dict[str, Any] = field(default_factory=dict)
    #: what the method read of the dataset (its views), where it says so
    inputs: dict[str, Any] | None = None
    #: the name results are filed under (the preset's, where the method is one)
    label: str = ""

    @property
    def mean(self) -> dict[str, float]:
        return {m: float(np.mean([f[m] for f in self.folds])) for m in (*METRICS, "seconds")}

    @property
    def std(self) -> dict[str, float]:
        return {m: float(np.std([f[m] for f in self.folds])) for m in (*METRICS, "seconds")}

    @property
    def sem(self) -> dict[str, float]:
        """Standard error of the mean: over repeat means when there are several repeats (the folds of one
        repeat share their training data), else over folds (e.g. the cut-offs of the time split)."""
        repeats = sorted({f["repeat"] for f in self.folds})
        out = {}
        for m in METRICS:
            if len(repeats) > 1:
                values = [np.mean([f[m] for f in self.folds if f["repeat"] == r]) for r in repeats]
            else:
                values = [f[m] for f in self.folds]
            out[m] = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
        return out


def fold_seed(seed: int, repeat: int, fold: int) -> int:
    """Training seed of one fold: distinct per fold, fixed by the run's seed."""
    return seed * 1_000_003 + repeat * 101 + fold


def run_fold(method: Any, dataset: Dataset, fold: Fold, seed: int) -> dict[str, Any]:
    """Fit a fresh copy of ``method`` on the fold's training matrix, score its candidates, return the record."""
    start = time.perf_counter()
    where = f"repeat {fold.repeat}, fold {fold.fold}"
    model = methods.fit_method(methods.clone(method), dataset, fold.train,
                               seed=fold_seed(seed, fold.repeat, fold.fold), where=where)
    scores = methods.scores_of(model, dataset, where)
    record = fold_record(fold, scores[fold.candidates[:, 0], fold.candidates[:, 1]])
    record["seconds"] = time.perf_counter() - start
    return record


def fold_record(fold: Fold, y_score: np.ndarray, *, seconds: float = 0.0) -> dict[str, Any]:
    """Every metric of one fold's scores of its candidates (the record the store keeps); ``seconds`` is the
    time the scores took."""
    record: dict[str, Any] = {"repeat": fold.repeat, "fold": fold.fold}
    metrics = evaluate_scores(fold.labels, y_score, drugs=fold.candidates[:, 0])
    record.update({m: metrics[m] for m in METRICS})
    record["threshold"] = metrics["threshold"]
    record["prevalence"] = float(np.mean(fold.labels))
    record["seconds"] = seconds
    record["curves"] = _curves(fold.labels, y_score)
    return record


def _curves(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, list[float]]:
    """ROC and PR curves resampled on a fixed grid, small enough to keep per fold."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    grid = np.linspace(0, 1, CURVE_POINTS)
    fpr, tpr, _ = roc_curve(y_true, y_score)
    precision, recall, _ = precision_recall_curve(y_true, y_score)
    order = np.argsort(recall, kind="stable")
    return {"grid": grid.round(4).tolist(),
            "tpr": np.interp(grid, fpr, tpr).round(5).tolist(),
            "precision": np.interp(grid, recall[order], precision[order]).round(5).tolist()}


#: Metrics a fold can lack by nature: per-drug ones when no test drug has both a positive and a negative pair.
MAY_BE_NAN = frozenset({"drug_ap", "drug_auc", f"drug_recall_at_{DRUG_TOP_K}"})
_RECORD_FIELDS = ("repeat", "fold", *METRICS, "threshold", "prevalence", "seconds", "curves")


def fold_record_problem(key: str, record: dict[str, Any]) -> str | None:
    """What makes a stored fold record unlike one :func:`run_fold` returns (fields, types, finite values in
    range, repeat and fold as the file's name ``key`` says, curve lengths), or None when there is nothing."""

    def number(name: str, low: float = -math.inf, high: float = math.inf, *, nan: bool = False) -> str | None:
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name!r} is {value!r}, not a number"
        if math.isnan(value) and nan:
            return None
        if not math.isfinite(value):
            return f"{name!r} is {value!r}, not a finite number"
        if not low <= value <= high:
            return f"{name!r} is {value!r}, outside [{low:g}, {high:g}]"
        return None

    missing = [f for f in _RECORD_FIELDS if f not in record and f != "prevalence"]
    if missing:
        return f"{missing[0]!r} is missing"
    unknown = sorted(record.keys() - set(_RECORD_FIELDS))
    if unknown:
        return f"unexpected field {unknown[0]!r}"
    for name in ("repeat", "fold"):
        if isinstance(record[name], bool) or not isinstance(record[name], int) or record[name] < 0:
            return f"{name!r} is {record[name]!r}, not a whole number"
    if key != f"r{record['repeat']:02d}_f{record['fold']:02d}":
        return f"its repeat {record['repeat']} and fold {record['fold']} are not those of its file name"
    checks = [number(m, 0, float(m.rsplit("_", 1)[1]) if m.startswith("hits_at_") else 1, nan=m in MAY_BE_NAN)
              for m in METRICS]
    checks += [number("threshold"), number("seconds", 0)]
    if "prevalence" in record:
        checks.append(number("prevalence", 0, 1))
    problem = next((c for c in checks if c is not None), None)
    if problem is not None:
        return problem
    curves = record["curves"]
    if not isinstance(curves, dict) or set(curves) != {"grid", "tpr", "precision"}:
        return "'curves' is not a grid with its tpr and precision"
    for name, points in curves.items():
        if not isinstance(points, list) or len(points) != CURVE_POINTS:
            return f"curve {name!r} does not have {CURVE_POINTS} points"
        if not all(isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1 for p in points):
            return f"curve {name!r} has a point that is not a number in [0, 1]"
    return None


def run_fingerprint(method: Any, dataset: Dataset, cv: Splitter, seed: int) -> str:
    """A hash of everything that determines a fold's result; a resumed run must match it: the method and its
    parameters (for a user's class, also its source file), the protocol, the associations, the names, the values
    of every view the method reads (every view, where it does not say), the publications where the split or
    the method reads them, and the code's version. What the method does not read is left out, so one
    configuration run inside different studies (``ammgc study``) shares its folds."""
    from ammgc import __version__

    def digest(array: np.ndarray) -> str:
        return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()

    used = methods.inputs(method, dataset)
    read = {*used["drug"], *used["mirna"]} if used is not None else set(dataset.views)
    protocol = cv.params()
    fields: dict[str, Any] = {
        "method": methods.registered_name(method), "config": methods.params_of(method),
        "n_folds": protocol.get("n_folds", 5), "seed": seed, "split": protocol["split"],
        "record": RECORD_VERSION, "ammgc": __version__, "associations": digest(dataset.associations),
        "names": hashlib.sha1("\n".join([*dataset.drug_names, "", *dataset.mirna_names]).encode()).hexdigest(),
        "views": sorted((v.name, v.entity, digest(np.asarray(v.matrix, dtype=np.float64)))
                        for v in dataset.views.values() if v.name in read)}
    if not isinstance(method, methods.Method):
        fields["source"] = _source_digest(type(method))
    if cv.needs_publications or (dataset.publications is not None and methods.publications_use(method) != "unused"):
        fields["publications"] = dataset.publications.digest() if dataset.publications is not None else None
    if "cutoffs" in protocol:
        fields["cutoffs"] = list(protocol["cutoffs"])
    payload = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def _source_digest(cls: type) -> str:
    """A hash of the file a user's method class is defined in: an edited method never resumes old folds."""
    try:
        path = inspect.getsourcefile(cls)
        return hashlib.sha1(Path(path).read_bytes()).hexdigest() if path else "unknown"
    except (OSError, TypeError):
        return "unknown"


def _init_fold_process(threads: int, parent: int) -> None:
    """A fold process: its thread count, Ctrl-C left to the run that started it (which stops the pool; a
    worker interrupted too would print its own traceback), and an exit as soon as that run is gone."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)  # the process is the fold's own
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True, name="ammgc-watchdog").start()


def _exit_when_orphaned(parent: int, interval: float = 1.0) -> None:
    # A killed `ammgc cv` (SIGKILL, OOM killer) cannot shut its pool down, and a spawned worker would then
    # wait on its task queue forever, holding the dataset in memory; it notices by being re-parented.
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _dask_fold(dataset: Dataset, item: tuple[Any, Fold, int, int]) -> dict[str, Any]:
    """One fold as a Dask task, on the run's thread count."""
    method, fold, seed, threads = item
    with torch_threads(threads):
        return run_fold(method, dataset, fold, seed)


def _worker(args: tuple[str, bytes, Dataset, Fold, int]) -> dict[str, Any]:
    """One fold in a fold process. The method comes pickled and is unpickled here, so a class this process cannot
    import is a ``MethodError`` naming it rather than a worker that dies with a traceback."""
    name, method, dataset, fold, seed = args
    try:
        method = pickle.loads(method)
    except Exception as exc:  # the user's class is not importable here (defined under `if __name__ == ...`)
        raise MethodError(_unsendable(name, f"{type(exc).__name__}: {exc}")) from None
    return run_fold(method, dataset, fold, seed)


def _unsendable(name: str, problem: str) -> str:
    return (f"{name}: cannot run in a fold process ({problem}); define the class in a module importable from the "
            f"Python path, or use jobs=1")


def _sendable(method: Any, name: str) -> bytes:
    """The method pickled for fold processes, or a ``MethodError`` where they cannot rebuild it: an object pickle
    refuses (a lock, a lambda, a class it cannot find), or a class of an interactive session, which a spawned
    process cannot import (a script's ``__main__`` is imported again there; a notebook's or ``python -c``'s is not)."""
    import sys

    main = sys.modules.get("__main__")
    importable_main = getattr(getattr(main, "__spec__", None), "name", None) or os.path.isfile(
        str(getattr(main, "__file__", "") or ""))
    if type(method).__module__ == "__main__" and not importable_main:
        raise MethodError(_unsendable(name, f"class {type(method).__qualname__} is defined in an interactive "
                                            f"session, which a fold process cannot import"))
    try:
        return pickle.dumps(method)
    except Exception as exc:  # pickle raises PicklingError, TypeError or AttributeError for what it cannot send
        raise MethodError(_unsendable(name, f"{type(exc).__name__}: {exc}")) from None


def cross_validate(method: Any, dataset: Dataset, cv: Splitter | None = None, *, seed: int | None = None,
                   jobs: int = 1, executor: str | Execution | None = None,
                   store: str | os.PathLike[str] | None = None, progress: bool = False,
                   on_fold: Callable[[dict[str, Any]], None] | None = None) -> CVResult:
    """Cross-validate ``method`` (a method object, or a name ``ammgc.methods.get`` takes) on ``dataset`` under
    the splitter ``cv`` (default ``PairSplit()``, the paper's 10 x 5 folds).

    Before any fold, the method's ``prepare`` hook computes what it reads (AMMGC: its views); each fold then
    fits a fresh copy (``ammgc.methods.clone``) with the fold's seed (``fold_seed(seed, repeat, fold)``,
    ``seed`` defaulting to the splitter's) and ranks the fold's candidates. Folds run here (``jobs`` 1), in
    ``jobs`` processes, or on Dask (``executor="dask"``, or the ``ammgc.evaluation.cluster.execution`` block
    around the call). With ``store`` (a directory) each finished fold is kept atomically under
    ``store/folds`` and a rerun with the same inputs takes it from there instead of training, so an
    interrupted run resumes without losing finished folds; ``progress`` shows a progress bar.
    """
    if isinstance(method, str):
        method = methods.get(method)
    methods.check_method(method)
    cv = cv if cv is not None else PairSplit()
    if not isinstance(cv, Splitter):
        raise AmmgcError(f"cv must be a splitter (PairSplit, StudySplit, TimeSplit, ColdStartSplit), not "
                         f"{type(cv).__name__}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise AmmgcError(f"jobs must be a whole number >= 1, not {jobs!r}")
    seed = cv.seed if seed is None else seed
    chosen = execution_of(executor) if executor is not None else current_execution()
    if isinstance(method, methods.Method):
        method.check_params()  # before views are computed or any fold is planned
    if cv.needs_publications:
        dataset = dataset.with_publications()
    dataset = methods.prepare(method, dataset)
    name = methods.label(method)
    result = CVResult(method=methods.registered_name(method), config=methods.params_of(method),
                      split=str(cv.params()["split"]), cv=cv.params(), inputs=methods.inputs(method, dataset),
                      label=name)
    fingerprint = run_fingerprint(method, dataset, cv, seed)
    plan = list(cv.split(dataset))
    opened = FoldStore(Path(store), fingerprint) if store is not None else None
    shared = shared_store(fingerprint)
    records = _stored_records(plan, opened, shared)
    todo = [f for f in plan if f.key not in records]
    bar = tqdm(total=len(plan), initial=len(records), desc=f"{name} cv", unit="fold", disable=not progress)

    def finish(fold_key: str, record: dict[str, Any]) -> None:
        records[fold_key] = record
        if opened:
            opened.save(fold_key, record)
        if shared:
            shared.save(fold_key, record)
        if on_fold:
            on_fold(record)
        bar.update(1)
        bar.set_postfix(aupr=f"{np.mean([r['aupr'] for r in records.values()]):.4f}",
                        auc=f"{np.mean([r['auc'] for r in records.values()]):.4f}")

    try:
        _run_folds(method, dataset, todo, seed, jobs=jobs, where=chosen, finish=finish)
    finally:
        bar.close()
        for store_ in (opened, shared):
            if store_:
                store_.close()
    result.folds = [records[f.key] for f in plan]
    return result


def _stored_records(plan: list[Fold], opened: FoldStore | None, shared: FoldStore | None) -> dict[str, dict[str, Any]]:
    """The planned folds already finished: in this run's store (a resumed run), else in the study's shared
    store (copied into this run's store too)."""
    records: dict[str, dict[str, Any]] = {}
    if opened is not None:
        done = opened.load_all(fold_record_problem)
        records = {f.key: done[f.key] for f in plan if f.key in done}
        if records:
            log.info("resuming: %d of %d folds already done in %s", len(records), len(plan), opened.dir)
    if shared is not None:
        planned = {f.key for f in plan}
        from_shared = {k: r for k, r in shared.load_all(fold_record_problem).items()
                       if k not in records and k in planned}
        for key, record in from_shared.items():
            records[key] = record
            if opened:
                opened.save(key, record)
        if from_shared:
            log.info("%d of %d folds of this configuration were already trained in this study",
                     len(from_shared), len(plan))
    return records


def _run_folds(method: Any, dataset: Dataset, todo: list[Fold], seed: int, *, jobs: int, where: Execution,
               finish: Callable[[str, dict[str, Any]], None]) -> None:
    """Each fold of ``todo`` run on Dask, here, or in ``jobs`` spawned processes; ``finish(key, record)`` as
    each one ends."""
    name = methods.label(method)
    try:
        if where.kind == "dask" and todo:
            run_on_dask(_dask_fold, dataset, [(method, fold, seed, training_threads()) for fold in todo],
                        scheduler=where.scheduler, workers=jobs,
                        finish=lambda item, record: finish(item[1].key, record))
        elif jobs <= 1 or len(todo) <= 1:
            with torch_threads(training_threads()):
                for fold in todo:
                    finish(fold.key, run_fold(method, dataset, fold, seed))
        else:
            import multiprocessing as mp

            sent = _sendable(method, name)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                                     initializer=_init_fold_process,
                                     initargs=(training_threads(), os.getpid())) as pool:
                futures = {pool.submit(_worker, (name, sent, dataset, fold, seed)): fold for fold in todo}
                try:
                    for future in as_completed(futures):
                        finish(futures[future].key, future.result())
                except BaseException:
                    # a failed fold or Ctrl-C stops the run now: folds not yet started are dropped, not run
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    except BrokenProcessPool as exc:
        if isinstance(method, methods.Method):
            raise
        # the user's code ended a fold process (os._exit, a crash in an extension)
        raise MethodError(f"{name}: a fold process running it ended abruptly ({exc}); the folds stored before "
                          f"are kept") from None


def summarise(result: CVResult) -> dict[str, Any]:
    """The metrics.json payload (without curves, which are kept per fold in the store)."""
    return {
        "method": result.method,
        "config": result.config,
        "split": result.split,
        "folds": [{k: v for k, v in f.items() if k != "curves"} for f in result.folds],
        "mean": result.mean,
        "std": result.std,
        "sem": result.sem,
    }


def iter_curves(result: CVResult) -> Iterable[dict[str, list[float]]]:
    return (f["curves"] for f in result.folds if "curves" in f)
