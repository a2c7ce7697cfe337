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
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate, plan_folds
from ammgc.evaluation.splits import DEFAULT_CUTOFFS
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.methods import make_method, resolve_method
from ammgc.reporting.tables import SUMMARY_METRICS, tune_markdown

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
    if split == "time":
        outer = plan_folds(dataset, split="time", cutoffs=(min(cutoffs),))[0]
    else:
        outer = plan_folds(dataset, split=split, n_folds=n_folds, repeats=1, seed=seed)[0]  # type: ignore[arg-type]
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


def run_tune(dataset: Dataset, method: str, *, split: str = "study", grid: list[dict[str, Any]] | None = None,
             base: Mapping[str, Any] | None = None, inner_folds: int = 3, seed: int = 0, n_folds: int = 5,
             cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1, out: str | os.PathLike[str] = "runs/tune",
             mirbase: str | os.PathLike[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Cross-validate every grid point on the inner split; write tune.md, tune.csv, best.json; return best.json."""
    from ammgc.experiments.cv import prepare_dataset

    out = ensure_writable_dir(out)
    registered, preset = resolve_method(method)
    points = grid if grid is not None else DEFAULT_GRIDS.get(registered, [{}])
    if not points:
        raise AmmgcError("the grid has no point to try")
    configs = [{**preset, **(base or {}), **point} for point in points]
    # every value, defaults included: a point's folder changes with any setting it trains with
    resolved = [make_method(registered, **config).config_dict() for config in configs]  # a bad value fails now
    inner = tuning_data(dataset, split, n_folds=n_folds, seed=seed, cutoffs=cutoffs)
    # every point's views before any training: one that cannot be had stops the search now
    prepared = [prepare_dataset(inner, registered, config, mirbase)[0] for config in configs]
    rows = []
    for k, (point, config, full, data) in enumerate(zip(points, configs, resolved, prepared, strict=True),
                                                    start=1):
        if progress:
            tqdm.write(f"[{k}/{len(points)}] {method} {json.dumps(point)}", file=sys.stderr)
        result = cross_validate(data, registered, config, n_folds=inner_folds, repeats=1, seed=seed,
                                split=split, cutoffs=INNER_CUTOFFS, jobs=jobs,  # type: ignore[arg-type]
                                out=out / "points" / point_id(full), progress=progress)
        mean, sem = result.mean(), result.sem()
        rows.append({"point": json.dumps(point, sort_keys=True), **{m: mean[m] for m in SUMMARY_METRICS},
                     **{f"{m}_sem": sem[m] for m in SUMMARY_METRICS}, "seconds_per_fold": mean["seconds"],
                     "folds": len(result.folds)})
    best = max(range(len(rows)), key=lambda i: rows[i][RANKED_BY])
    chosen = {"method": method, "split": split, "ranked_by": RANKED_BY, "point": points[best],
              "config": configs[best], "inner": describe_inner(split, inner_folds, inner),
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
