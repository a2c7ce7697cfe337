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
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ammgc.data import load_dataset
from ammgc.data.benchmark import DATASET_NAME
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate, plan_folds
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, SplitKind
from ammgc.io import atomic_write_text, ensure_writable_dir
from ammgc.methods import PRESETS, REGISTRY, make_method, resolve_method
from ammgc.paper import TABLE1, TABLE_METRICS
from ammgc.reporting import write_cv_outputs
from ammgc.reporting.figures import plot_table1
from ammgc.reporting.tables import SUMMARY_METRICS, USER_METRICS, protocols_markdown, table1_markdown

#: ``--methods all``: the paper's Table 1 order after the two popularity references (by degree and by
#: publications), with the miRNA-side CF, AMMGC's 0.1 default and the paper-faithful AMMGC (presets)
#: beside the defaults.
ALL_METHODS = ("popularity", "popularity-studies", "cf", "cf-mirna", "lp", "gf", "sdne", "gcmdr", "ammgc",
               "ammgc-pairs", "ammgc-paper")

def select_methods(spec: str | Sequence[str]) -> list[str]:
    """``all`` or comma-separated registered names -> the distinct names, in the order given."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        for name in ALL_METHODS if item == "all" else (item,):
            if name not in REGISTRY and name not in PRESETS:
                raise AmmgcError(f"unknown method {name!r} in --methods; choose from all, "
                                 f"{', '.join([*REGISTRY, *PRESETS])}")
            if name not in names:
                names.append(name)
    if not names:
        raise AmmgcError("--methods names no method; give `all` or e.g. cf,lp,gcmdr")
    return names


def fold_plan_digest(dataset: Dataset, *, n_folds: int, repeats: int, seed: int, split: SplitKind = "pair",
                     cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> str:
    """A short hash of every fold's held-out positives: equal digests mean identical splits."""
    digest = hashlib.sha1()
    for fold in plan_folds(dataset, split=split, n_folds=n_folds, repeats=repeats, seed=seed, cutoffs=cutoffs):
        digest.update(np.ascontiguousarray(fold.held_out, dtype=np.int64).tobytes())
    return digest.hexdigest()[:12]


def run_compare(*, data: str | os.PathLike[str] | Dataset | None = None,
                mirbase: str | os.PathLike[str] | None = None, methods: str | Sequence[str] = "all",
                configs: Mapping[str, dict[str, Any]] | None = None, n_folds: int = 5, repeats: int = 10,
                seed: int = 0, split: SplitKind = "pair", cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1,
                out: str | os.PathLike[str] = "runs/compare", progress: bool = True) -> dict[str, dict[str, Any]]:
    """Cross-validate each method on the same folds; write OUT/<method>/metrics.json (and report.md,
    curves.png), OUT/table1.md, OUT/table1.csv and OUT/table1.png. Returns {method: metrics.json payload}."""
    from ammgc.experiments.cv import load_for_split, prepare_dataset

    out = ensure_writable_dir(out)
    names = select_methods(methods)
    configs = dict(configs or {})
    stray = sorted(set(configs) - set(names))
    if stray:
        raise AmmgcError(f"options given for method(s) {stray} that are not being compared ({', '.join(names)})")
    resolved = {name: resolve_method(name) for name in names}
    models = {name: make_method(method, **{**preset, **configs.get(name, {})})  # a bad option fails now
              for name, (method, preset) in resolved.items()}
    base = load_for_split(data, split)
    if base.publications is None and base.name != DATASET_NAME:
        # `all` on own data without publications: the methods that need them are left out, with a note
        asked = {n.strip().lower() for n in (methods.split(",") if isinstance(methods, str) else methods)}
        dropped = [n for n in names if models[n].publications_use() == "required" and n not in asked]
        if dropped and progress:
            tqdm.write(f"left out {', '.join(dropped)}: this dataset has no publication column", file=sys.stderr)
        names = [n for n in names if n not in dropped]
    digest = fold_plan_digest(base, n_folds=n_folds, repeats=repeats, seed=seed, split=split, cutoffs=cutoffs)
    config_of = {name: {**resolved[name][1], **configs.get(name, {})} for name in names}
    # every method's publications and views before any training, so that one that cannot be had stops the
    # comparison now rather than after the methods before it; each method gets the base views plus only its
    # own, so its resumable run does not depend on which other methods are compared alongside it
    prepared = {name: prepare_dataset(base, resolved[name][0], config_of[name], mirbase) for name in names}
    bodies: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names, start=1):
        if progress:
            tqdm.write(f"[{k}/{len(names)}] {name} ({split} split)", file=sys.stderr)
        method, config = resolved[name][0], config_of[name]
        dataset, views = prepared[name]
        start = time.perf_counter()
        result = cross_validate(dataset, method, config, n_folds=n_folds, repeats=repeats, seed=seed, split=split,
                                cutoffs=cutoffs, jobs=jobs, out=out / name, progress=progress)
        wall = time.perf_counter() - start
        bodies[name] = write_cv_outputs(result, out / name, views=views, dataset_source=base.source,
                                        dataset_name=base.name, extra={"wall_seconds_this_run": wall, "label": name})
    rows = table_rows(bodies)
    atomic_write_text(out / "table1.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "table1.md", table1_markdown(rows, bodies, n_folds=n_folds, repeats=repeats, seed=seed,
                                                         digest=digest, source=base.source, split=split))
    plot_table1(rows, out / "table1.png")
    return bodies


def run_protocols(*, splits: Sequence[str], data: str | os.PathLike[str] | Dataset | None = None,
                  out: str | os.PathLike[str] = "runs/compare", repeats: Mapping[str, int] | None = None,
                  **kwargs: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``run_compare`` under each protocol into OUT/<split>/, then OUT/protocols.md and protocols.csv."""
    from ammgc.data.publications import attach_publications
    from ammgc.evaluation.splits import PUBLICATION_SPLITS

    out = ensure_writable_dir(out)
    base = data if isinstance(data, Dataset) else load_dataset(data)
    if any(split in PUBLICATION_SPLITS for split in splits):
        base = attach_publications(base, "required")  # before the first protocol trains anything
    results = {}
    for split in splits:
        results[split] = run_compare(data=base, split=split, out=out / split,  # type: ignore[arg-type]
                                     repeats=(repeats or {}).get(split, 10), **kwargs)
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
