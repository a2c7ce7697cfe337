"""The paper's Table 1 under any protocol: every comparison method cross-validated on identical folds.

Each method runs through :func:`ammgc.evaluation.runner.cross_validate` with the same split, ``n_folds``,
``repeats`` and ``seed``, so every method sees exactly the same folds (a split plan depends on those, on
the association matrix and, for the study and time splits, on the publications only). Each method's
folds and metrics.json / report.md / curves.png go to ``OUT/<method>/`` as with ``ammgc cv``, so an
interrupted comparison resumes per method and fold. ``OUT/table1.md``, ``table1.csv`` and ``table1.png``
put the methods side by side (beside the paper's numbers under the paper's pair protocol).

With several protocols (``splits``), each goes to ``OUT/<split>/`` and ``OUT/protocols.md`` / ``.csv``
show every method under every protocol, with how much each one's score drops from random pairs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ammgc import methods
from ammgc.data.benchmark import DATASET_NAME
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import Splitter
from ammgc.experiments.cv import write_result
from ammgc.io import atomic_write_text, ensure_writable_dir
from ammgc.paper import TABLE1, TABLE_METRICS
from ammgc.reporting.figures import plot_table1
from ammgc.reporting.tables import SUMMARY_METRICS, USER_METRICS, protocols_markdown, table1_markdown

#: ``--methods all``: the paper's Table 1 order after the two popularity references (by degree and by
#: publications), with the miRNA-side CF, AMMGC's 0.1 default and the paper-faithful AMMGC (presets)
#: beside the defaults.
log = logging.getLogger(__name__)

ALL_METHODS = ("popularity", "popularity-studies", "cf", "cf-mirna", "lp", "gf", "sdne", "gcmdr", "ammgc",
               "ammgc-pairs", "ammgc-paper")

def select_methods(spec: str | Sequence[str], configs: Mapping[str, dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """``all`` or comma-separated names (registered methods, presets, ``module:Class``) -> {name: method object},
    distinct, in the order given; ``configs`` {name: options} sets each one's options."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        for name in ALL_METHODS if item.lower() == "all" else (item if ":" in item else item.lower(),):
            if name not in chosen:
                chosen.append(name)
    if not chosen:
        raise AmmgcError("the method list names no method; give `all` or e.g. cf,lp,gcmdr")
    configs = {k if ":" in k else k.lower(): v for k, v in (configs or {}).items()}
    stray = sorted(set(configs) - set(chosen))
    if stray:
        raise AmmgcError(f"options given for method(s) {stray} that are not being compared ({', '.join(chosen)})")
    built = {name: methods.get(name, **configs.get(name, {})) for name in chosen}
    for method in built.values():
        if isinstance(method, methods.Method):
            method.check_params()  # a bad option fails now, before any method runs
    return built


def fold_plan_digest(dataset: Dataset, cv: Splitter) -> str:
    """A short hash of every fold's held-out positives: equal digests mean identical splits."""
    digest = hashlib.sha1()
    for fold in cv.split(dataset):
        digest.update(np.ascontiguousarray(fold.held_out, dtype=np.int64).tobytes())
    return digest.hexdigest()[:12]


def run_compare(compared: Mapping[str, Any], dataset: Dataset, cv: Splitter, *, jobs: int = 1,
                out: str | os.PathLike[str] = "runs/compare", progress: bool = False,
                skip_unavailable: bool = False) -> dict[str, dict[str, Any]]:
    """Cross-validate each method ({name: method object}) on the same folds; write OUT/<name>/metrics.json (and
    report.md, curves.png), OUT/table1.md, OUT/table1.csv and OUT/table1.png. Returns {name: metrics.json}.

    What every method needs is checked before the first one trains. With ``skip_unavailable`` (``all`` on own
    data without publications), the methods that require publications are left out, with a logged note."""
    out = ensure_writable_dir(out)
    if cv.needs_publications:
        dataset = dataset.with_publications()
    names = list(compared)
    if dataset.publications is None:
        needing = [n for n in names if methods.publications_use(compared[n]) == "required"]
        if needing and not skip_unavailable:
            raise DataError(f"{', '.join(needing)} count(s) publications, which this dataset does not have: add a "
                            f"pmid (or source and year) column to its association table", file=dataset.source)
        if needing:
            log.info("left out %s: this dataset has no publication column", ", ".join(needing))
        names = [n for n in names if n not in needing]
    # every method's views and data before the first one trains: a missing input stops the run now
    prepared = {name: methods.prepare(compared[name], dataset) for name in names}
    digest = fold_plan_digest(dataset, cv)
    bodies: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names, start=1):
        if progress:
            log.info("[%d/%d] %s (%s split)", k, len(names), name, cv.params()["split"])
        start = time.perf_counter()
        result = cross_validate(compared[name], prepared[name], cv, jobs=jobs, store=out / name, progress=progress)
        wall = time.perf_counter() - start
        bodies[name] = write_result(result, dataset, out / name, extra={"wall_seconds_this_run": wall, "label": name})
    rows = table_rows(bodies)
    params = cv.params()
    atomic_write_text(out / "table1.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "table1.md", table1_markdown(rows, bodies, n_folds=params.get("n_folds", 5),
                                                         repeats=params.get("repeats", 1), seed=params["seed"],
                                                         digest=digest, source=dataset.source,
                                                         split=str(params["split"])))
    plot_table1(rows, out / "table1.png")
    return bodies


def run_protocols(compared: Mapping[str, Any], dataset: Dataset, splitters: Sequence[Splitter], *,
                  out: str | os.PathLike[str] = "runs/compare", **kwargs: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``run_compare`` under each protocol into OUT/<split>/, then OUT/protocols.md and protocols.csv."""

    out = ensure_writable_dir(out)
    for cv in splitters:
        if cv.needs_publications:
            dataset = dataset.with_publications()  # checked for every protocol before the first one runs
    results = {}
    for cv in splitters:
        split = str(cv.params()["split"])
        results[split] = run_compare(compared, dataset, cv, out=out / split, **kwargs)
    rows = protocol_rows(results)
    atomic_write_text(out / "protocols.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "protocols.md", protocols_markdown(rows, results, reference_differences(results),
                                                               reference=REFERENCE))
    return results


def paired_difference(body: dict[str, Any], other: dict[str, Any], metric: str) -> tuple[float, float]:
    """Mean and standard error of ``body - other`` on the same folds: per repeat where there are several
    repeats (the folds of one repeat share training data), else per fold (the time split's cut-offs)."""
    theirs = {(f["repeat"], f["fold"]): f[metric] for f in other["folds"]}
    diffs: dict[int, list[float]] = {}
    for f in body["folds"]:
        key = (f["repeat"], f["fold"])
        if key not in theirs:
            raise AmmgcError(f"{other.get('label', other['method'])} has no fold {key}: the runs are not paired")
        diffs.setdefault(f["repeat"], []).append(f[metric] - theirs[key])
    values = [float(np.mean(v)) for v in diffs.values()] if len(diffs) > 1 else next(iter(diffs.values()))
    sem = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    return float(np.mean(values)), sem


def protocol_rows(results: Mapping[str, Mapping[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per method: each protocol's mean and standard error of the summary metrics."""
    methods = list(dict.fromkeys(name for bodies in results.values() for name in bodies))
    rows = []
    for name in methods:
        row: dict[str, Any] = {"method": name}
        for split, bodies in results.items():
            body = bodies.get(name)
            for m in SUMMARY_METRICS:
                row[f"{split}_{m}"] = body["mean"][m] if body else None
                row[f"{split}_{m}_sem"] = body["sem"][m] if body else None
        rows.append(row)
    return rows


#: The method every other one is compared with, fold by fold, in protocols.md.
REFERENCE = "ammgc"


def reference_differences(results: Mapping[str, Mapping[str, dict[str, Any]]]
                          ) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """{method: {split: {metric: paired_difference(REFERENCE, method)}}} for every other method, under each
    protocol it ran under; empty unless REFERENCE ran under every protocol."""
    if not all(REFERENCE in bodies for bodies in results.values()):
        return {}
    others = dict.fromkeys(name for bodies in results.values() for name in bodies if name != REFERENCE)
    return {name: {split: {m: paired_difference(bodies[REFERENCE], bodies[name], m) for m in SUMMARY_METRICS}
                   for split, bodies in results.items() if name in bodies} for name in others}


def table_rows(bodies: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: our mean and std per metric, the paper's beside them, time per fold, best marks."""
    best = {m: max(bodies[n]["mean"][m] for n in bodies) for m in TABLE_METRICS}
    rows = []
    for name, body in bodies.items():
        mean, std = body["mean"], body["std"]
        # the paper's numbers are of its own protocol and benchmark only
        on_paper = body.get("split", "pair") == "pair" and body.get("dataset") == DATASET_NAME
        paper = {m: mean for m, (mean, _) in TABLE1.get(name, {}).items()} if on_paper else {}
        paper_std = {m: std for m, (_, std) in TABLE1.get(name, {}).items()} if on_paper else {}
        row: dict[str, Any] = {"method": name}
        for m in TABLE_METRICS:
            row[m] = mean[m]
            row[f"{m}_std"] = std[m]
            row[f"{m}_paper"] = paper.get(m)
            row[f"{m}_paper_std"] = paper_std.get(m)
        for m in USER_METRICS:
            row[m] = mean[m]
            row[f"{m}_sem"] = body["sem"][m]
        row["seconds_per_fold"] = mean["seconds"]
        row["seconds_per_fold_std"] = std["seconds"]
        row["folds"] = len(body["folds"])
        row["best"] = ";".join(m for m in TABLE_METRICS if mean[m] == best[m])
        rows.append(row)
    return rows
