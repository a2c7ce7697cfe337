"""Choosing a method's defaults without a test pair: a grid search on an inner split of training data only.

The data searched over is the training part of one outer fold of the protocol, never its test pairs:

- ``time``: the pairs first reported before the earliest outer cut-off (60% by default), which is the
  training data of every outer time fold. The inner split is again a time split of those pairs
  (inner cut-offs 70%, 80%, 90% of their first-report order).
- ``study``: the training matrix of outer fold 0 (repeat 0) of the study split; the inner split groups
  its pairs by publication again (``inner_folds`` folds).
- ``pair``: the training matrix of outer fold 0 of the pair split, inner random pair folds (the paper's
  protocol, kept for comparison).

Every grid point is cross-validated on the same inner folds (resumable, one store per point under
``OUT/points/``) and ranked by its mean inner AP. ``OUT/tune.md`` / ``tune.csv`` show every point with AP,
AUC, per-drug AP and P@100; ``OUT/best.json`` holds the chosen configuration.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, PUBLICATION_SPLITS, PairSplit, StudySplit, TimeSplit
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.reporting.tables import SUMMARY_METRICS, tune_markdown

log = logging.getLogger(__name__)

INNER_CUTOFFS = (0.7, 0.8, 0.9)
#: What each method's defaults were chosen from (``ammgc tune`` without --grid). Lists of
#: configurations rather than products where options belong together (AMMGC's two epoch counts).
DEFAULT_GRIDS: dict[str, list[dict[str, Any]]] = {
    # the activity prior first (counts, weight at scoring, offset in training), then the epochs at the
    # candidate prior; the widths stay the paper's (the sensitivity sweep is flat from 64 up)
    "ammgc": [*({"prior_counts": c, "prior_in_training": t, "degree_prior": w, "epochs_gcn": 100,
                 "epochs_attention": 200} for c in ("pairs", "auto") for t in (0.0, 2.0) for w in (2.0, 4.0, 6.0, 8.0)),
              *({"prior_counts": "auto", "prior_in_training": 2.0, "degree_prior": 4.0, "epochs_gcn": e,
                 "epochs_attention": 2 * e} for e in (50, 200))],
    "cf": [{"side": side, "neighbours": k} for side in ("drug", "mirna", "both") for k in (10, 50)],
    "lp": [{"alpha": a, "drug_weight": w} for a in (0.3, 0.5, 0.7, 0.9) for w in (0.25, 0.5, 0.75)],
    "gf": [{"dim": d, "l2": l2} for d in (16, 32, 64) for l2 in (0.1, 1.0)],
    "sdne": [{"epochs": e, "alpha": a, "beta": b} for e in (25, 50, 100) for a in (1.0, 10.0) for b in (5.0, 10.0)],
    "gcmdr": [{"epochs": e, "p_neg": p} for e in (100, 200, 400) for p in (1.0, 5.0)],
    "popularity": [{}],
}
RANKED_BY = "ap"


def tuning_data(dataset: Dataset, split: str, *, n_folds: int = 5, seed: int = 0,
                cutoffs: Sequence[float] = DEFAULT_CUTOFFS) -> Dataset:
    """The training data of the outer fold that tuning may look at (see the module docstring)."""
    if split not in ("pair", "study", "time"):
        raise AmmgcError(f"tuning supports the pair, study and time protocols, not {split!r}")
    if split in PUBLICATION_SPLITS:
        dataset = dataset.with_publications()
    outer_cv = (TimeSplit((min(cutoffs),), seed) if split == "time" else
                StudySplit(n_folds, 1, seed) if split == "study" else PairSplit(n_folds, 1, seed))
    outer = next(iter(outer_cv.split(dataset)))
    publications = dataset.publications.restricted_to(outer.train) if dataset.publications is not None else None
    return replace(dataset, associations=outer.train, publications=publications)


def expand_grid(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the given option values (``{"a": [1, 2], "b": [3]}`` -> two configurations)."""
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(axes[k] for k in keys))]


def point_id(config: Mapping[str, Any]) -> str:
    """A short, stable folder name for one grid point."""
    text = json.dumps(dict(config), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def run_tune(method: str, dataset: Dataset, *, split: str = "study", grid: list[dict[str, Any]] | None = None,
             base: Mapping[str, Any] | None = None, inner_folds: int = 3, seed: int = 0, n_folds: int = 5,
             cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1, out: str | os.PathLike[str] = "runs/tune",
             progress: bool = False) -> dict[str, Any]:
    """Cross-validate every grid point of ``method`` (a name ``ammgc.methods.get`` takes) on the inner split;
    write tune.md, tune.csv, best.json; return best.json."""
    out = ensure_writable_dir(out)
    template = methods.get(method, **(base or {}))
    registered = methods.registered_name(template)
    points = grid if grid is not None else DEFAULT_GRIDS.get(registered, [{}])
    if not points:
        raise AmmgcError("the grid has no point to try")
    candidates = [methods.clone(template) for _ in points]
    for candidate, point in zip(candidates, points, strict=True):
        if not hasattr(candidate, "set_params"):
            raise AmmgcError(f"{method} has no set_params: a grid cannot be tried on it")
        candidate.set_params(**point)
        if isinstance(candidate, methods.Method):
            candidate.check_params()  # a bad value fails now
    inner = tuning_data(dataset, split, n_folds=n_folds, seed=seed, cutoffs=cutoffs)
    inner_cv = (TimeSplit(INNER_CUTOFFS, seed) if split == "time" else
                StudySplit(inner_folds, 1, seed) if split == "study" else PairSplit(inner_folds, 1, seed))
    # every point's views before any training: one that cannot be had stops the search now
    prepared = [methods.prepare(candidate, inner) for candidate in candidates]
    rows = []
    for k, (point, candidate, data) in enumerate(zip(points, candidates, prepared, strict=True), start=1):
        if progress:
            log.info("[%d/%d] %s %s", k, len(points), method, json.dumps(point))
        # every value, defaults included: a point's folder changes with any setting it trains with
        folder = out / "points" / point_id(methods.params_of(candidate))
        result = cross_validate(candidate, data, inner_cv, jobs=jobs, store=folder, progress=progress)
        mean, sem = result.mean, result.sem
        rows.append({"point": json.dumps(point, sort_keys=True), **{m: mean[m] for m in SUMMARY_METRICS},
                     **{f"{m}_sem": sem[m] for m in SUMMARY_METRICS}, "seconds_per_fold": mean["seconds"],
                     "folds": len(result.folds)})
    best = max(range(len(rows)), key=lambda i: rows[i][RANKED_BY])
    preset = methods.PRESETS.get(method, (None, {}))[1]
    chosen = {"method": method, "split": split, "ranked_by": RANKED_BY, "point": points[best],
              "config": {**preset, **(base or {}), **points[best]}, "inner": describe_inner(split, inner_folds, inner),
              "inner_" + RANKED_BY: rows[best][RANKED_BY]}
    atomic_write_text(out / "tune.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "tune.md", tune_markdown(method, rows, best, chosen))
    atomic_write_json(out / "best.json", chosen)
    return chosen


def describe_inner(split: str, inner_folds: int, inner: Dataset) -> str:
    what = {"time": f"pairs first reported before the earliest outer cut-off ({inner.n_associations} pairs); "
                    f"inner time split at {', '.join(map(str, INNER_CUTOFFS))} of their order",
            "study": f"training pairs of outer study fold 0 ({inner.n_associations} pairs); inner "
                     f"{inner_folds}-fold split grouped by publication",
            "pair": f"training pairs of outer pair fold 0 ({inner.n_associations} pairs); inner {inner_folds}-fold "
                    f"random pair split"}
    return what[split]
