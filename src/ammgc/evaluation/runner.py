"""The cross-validation runner: method x split plan -> per-fold records, resumable, optionally parallel."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, TrainingError
from ammgc.evaluation.cluster import current_execution, run_on_dask
from ammgc.evaluation.metrics import DRUG_TOP_K, METRICS, evaluate_scores
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, PUBLICATION_SPLITS, Fold, SplitKind, make_folds
from ammgc.evaluation.store import FoldStore, shared_store
from ammgc.methods import make_method
from ammgc.runtime import training_threads

CURVE_POINTS = 201
#: Bumped whenever stored folds would no longer match fresh ones (a metric added or computed differently, scores
#: ranked differently): older folds are then redone, not mixed in. 2: ranking metrics, scores as logits. A field
#: that reports read only where present (``prevalence``) needs no bump.
RECORD_VERSION = 2


@dataclass
class CVResult:
    method: str
    config: dict[str, Any]
    split: str
    folds: list[dict[str, Any]] = field(default_factory=list)

    def mean(self) -> dict[str, float]:
        return {m: float(np.mean([f[m] for f in self.folds])) for m in (*METRICS, "seconds")}

    def std(self) -> dict[str, float]:
        return {m: float(np.std([f[m] for f in self.folds])) for m in (*METRICS, "seconds")}

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


def run_fold(dataset: Dataset, method: str, config: dict[str, Any], fold: Fold, seed: int) -> dict[str, Any]:
    """Train on the fold's training matrix, score its test pairs, return the metric record."""
    start = time.perf_counter()
    try:
        model = make_method(method, **config).fit(dataset, fold.train,
                                                  seed=fold_seed(seed, fold.repeat, fold.fold))
    except TrainingError as exc:
        raise TrainingError(f"repeat {fold.repeat}, fold {fold.fold}: {exc}") from None
    scores = model.score()
    y_score = scores[fold.test_pairs[:, 0], fold.test_pairs[:, 1]]
    if not np.isfinite(y_score).all():
        raise AmmgcError(f"{method} produced NaN or infinite scores in repeat {fold.repeat}, fold {fold.fold}")
    record: dict[str, Any] = {"repeat": fold.repeat, "fold": fold.fold}
    metrics = evaluate_scores(fold.test_labels, y_score, drugs=fold.test_pairs[:, 0])
    record.update({m: metrics[m] for m in METRICS})
    record["threshold"] = metrics["threshold"]
    record["prevalence"] = float(np.mean(fold.test_labels))
    record["seconds"] = time.perf_counter() - start
    record["curves"] = _curves(fold.test_labels, y_score)
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


def run_fingerprint(dataset: Dataset, method: str, config: dict[str, Any], *, n_folds: int, seed: int,
                    split: str, cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> str:
    """A hash of everything that determines a fold's result; a resumed run must match it: the configuration
    and protocol, the associations, the names, the values of every view the method reads (so an edited
    SMILES, sequence or feature file counts, whether the view is read or computed), the publications where
    the split or the method reads them, and the code's version. What the method does not read is left out,
    so one configuration run inside different studies (``ammgc study``) shares its folds."""
    from ammgc import __version__

    def digest(array: np.ndarray) -> str:
        return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()

    model = make_method(method, **config)
    views_used = getattr(model, "views_used", None)
    if views_used is not None:
        used = views_used(dataset)
        read = {*used["drug"], *used["mirna"]}
    else:
        read = set(dataset.views) if model.uses_features else set()
    fields: dict[str, Any] = {
        "method": method, "config": config, "n_folds": n_folds, "seed": seed, "split": split,
        "record": RECORD_VERSION, "ammgc": __version__, "associations": digest(dataset.associations),
        "names": hashlib.sha1("\n".join([*dataset.drug_names, "", *dataset.mirna_names]).encode()).hexdigest(),
        "views": sorted((v.name, v.entity, digest(np.asarray(v.matrix, dtype=np.float64)))
                        for v in dataset.views.values() if v.name in read)}
    if split in PUBLICATION_SPLITS or (dataset.publications is not None and model.publications_use() != "unused"):
        fields["publications"] = dataset.publications.digest() if dataset.publications is not None else None
    if split == "time":
        fields["cutoffs"] = list(cutoffs)
    payload = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def plan_folds(dataset: Dataset, *, split: SplitKind = "pair", n_folds: int = 5, repeats: int = 1, seed: int = 0,
               cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> list[Fold]:
    """Every fold of a run, repeat by repeat (the time split has one repeat: its cut-offs)."""
    if split == "time" and repeats != 1:
        raise AmmgcError(f"the time split has one fold per cut-off and no repeats (--repeats {repeats}); "
                         f"choose the cut-offs with --cutoffs")
    return [f for r in range(repeats)
            for f in make_folds(dataset.associations, n_folds=n_folds, repeat=r, seed=seed, split=split,
                                publications=dataset.publications, cutoffs=cutoffs)]


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _init_fold_process(threads: int, parent: int) -> None:
    """A fold process: its thread count, Ctrl-C left to the run that started it (which stops the pool; a
    worker interrupted too would print its own traceback), and an exit as soon as that run is gone."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(threads)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True, name="ammgc-watchdog").start()


def _exit_when_orphaned(parent: int, interval: float = 1.0) -> None:
    # A killed `ammgc cv` (SIGKILL, OOM killer) cannot shut its pool down, and a spawned worker would then
    # wait on its task queue forever, holding the dataset in memory; it notices by being re-parented.
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _dask_fold(dataset: Dataset, item: tuple[str, dict[str, Any], Fold, int, int]) -> dict[str, Any]:
    """One fold as a Dask task: the run's thread count, then the fold as a local worker runs it."""
    method, config, fold, seed, threads = item
    _init_worker(threads)
    return run_fold(dataset, method, config, fold, seed)


def _worker(args: tuple[Dataset, str, dict[str, Any], Fold, int]) -> dict[str, Any]:
    return run_fold(*args)


def cross_validate(dataset: Dataset, method: str, config: dict[str, Any] | None = None, *, n_folds: int = 5,
                   repeats: int = 10, seed: int = 0, split: SplitKind = "pair",
                   cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1,
                   out: str | os.PathLike[str] | None = None, progress: bool = True,
                   on_fold: Callable[[dict[str, Any]], None] | None = None) -> CVResult:
    """Run ``repeats`` x ``n_folds`` CV of a registered method.

    With ``out``, each finished fold is stored atomically under ``out/folds`` and a rerun with the
    same configuration skips it, so an interrupted run resumes without losing finished folds.
    """
    model = make_method(method, **(config or {}))
    model.check_params()
    config = dict(model.config_dict())
    result = CVResult(method=method, config=config, split=split)
    fingerprint = run_fingerprint(dataset, method, config, n_folds=n_folds, seed=seed, split=split, cutoffs=cutoffs)
    plan = plan_folds(dataset, split=split, n_folds=n_folds, repeats=repeats, seed=seed, cutoffs=cutoffs)
    store = FoldStore(Path(out), fingerprint) if out is not None else None
    done = {key: rec for key, rec in (store.load_all(fold_record_problem) if store else {}).items()}
    records: dict[str, dict[str, Any]] = {f.key: done[f.key] for f in plan if f.key in done}
    if records and store and progress:
        tqdm.write(f"resuming: {len(records)} of {len(plan)} folds already done in {store.dir}",
                   file=sys.stderr)
    shared = shared_store(fingerprint)
    if shared is not None:
        planned = {f.key for f in plan}
        from_shared = {k: r for k, r in shared.load_all(fold_record_problem).items()
                       if k not in records and k in planned}
        for key, record in from_shared.items():
            records[key] = record
            if store:
                store.save(key, record)
        if from_shared and progress:
            tqdm.write(f"{len(from_shared)} of {len(plan)} folds of this configuration were already trained in "
                       f"this study", file=sys.stderr)
    todo = [f for f in plan if f.key not in records]
    bar = tqdm(total=len(plan), initial=len(records), desc=f"{method} cv", unit="fold", disable=not progress)

    def finish(fold_key: str, record: dict[str, Any]) -> None:
        records[fold_key] = record
        if store:
            store.save(fold_key, record)
        if shared:
            shared.save(fold_key, record)
        if on_fold:
            on_fold(record)
        bar.update(1)
        bar.set_postfix(aupr=f"{np.mean([r['aupr'] for r in records.values()]):.4f}",
                        auc=f"{np.mean([r['auc'] for r in records.values()]):.4f}")

    execution = current_execution()
    try:
        if execution.kind == "dask" and todo:
            run_on_dask(_dask_fold, dataset, [(method, config, fold, seed, training_threads()) for fold in todo],
                        scheduler=execution.scheduler, workers=jobs,
                        finish=lambda item, record: finish(item[2].key, record))
        elif jobs <= 1 or len(todo) <= 1:
            _init_worker(training_threads())
            for fold in todo:
                finish(fold.key, run_fold(dataset, method, config, fold, seed))
        else:
            import multiprocessing as mp

            with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                                     initializer=_init_fold_process,
                                     initargs=(training_threads(), os.getpid())) as pool:
                futures = {pool.submit(_worker, (dataset, method, config, fold, seed)): fold for fold in todo}
                try:
                    for future in as_completed(futures):
                        finish(futures[future].key, future.result())
                except BaseException:
                    # a failed fold or Ctrl-C stops the run now: folds not yet started are dropped, not run
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    finally:
        bar.close()
        for opened in (store, shared):
            if opened:
                opened.close()
    result.folds = [records[f.key] for f in plan]
    return result


def summarise(result: CVResult) -> dict[str, Any]:
    """The metrics.json payload (without curves, which are kept per fold in the store)."""
    return {
        "method": result.method,
        "config": result.config,
        "split": result.split,
        "folds": [{k: v for k, v in f.items() if k != "curves"} for f in result.folds],
        "mean": result.mean(),
        "std": result.std(),
        "sem": result.sem(),
    }


def iter_curves(result: CVResult) -> Iterable[dict[str, list[float]]]:
    return (f["curves"] for f in result.folds if "curves" in f)
