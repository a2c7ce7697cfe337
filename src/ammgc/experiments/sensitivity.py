"""Parameter sensitivity (the paper's Figure 3 and Table 3): one AMMGC option varied, the rest fixed.

* ``layers`` k (GCN depth, paper 1-6): hidden = (h1,) * (k - 1) + (h2,), keeping the default sizes.
* ``width`` w (second-layer width, paper 16-512): hidden = (h1, w); the fused embedding is U x w wide.
* ``p_neg`` (negatives per positive per epoch, paper 1, 5, 10): Table 3 gives the paper's numbers.

Each value's folds are stored under ``OUT/<param>-<value>/folds`` (resumable).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import Splitter
from ammgc.io import atomic_write_text, ensure_writable_dir
from ammgc.models.ammgc import AMMGC
from ammgc.paper import TABLE3
from ammgc.reporting import write_metrics
from ammgc.reporting.figures import plot_sensitivity
from ammgc.reporting.tables import result_row, sensitivity_markdown

PARAMS: dict[str, tuple[float, ...]] = {
    "layers": (1, 2, 3, 4, 5, 6),
    "width": (16, 32, 64, 128, 256, 512),
    "p_neg": (1, 5, 10),
}


def parse_values(param: str, raw: Sequence[str] | None) -> list[float]:
    """Values of ``param`` from the command line (repeated or comma-separated); the paper's by default."""
    if param not in PARAMS:
        raise AmmgcError(f"unknown parameter {param!r}; choose one of {', '.join(PARAMS)}")
    if not raw:
        return list(PARAMS[param])
    values: list[float] = []
    for item in raw:
        for text in filter(None, (t.strip() for t in item.split(","))):
            try:
                value = float(text)
            except ValueError:
                raise AmmgcError(f"values: {text!r} is not a number") from None
            values.append(_checked(param, int(value) if value == int(value) else value))
    if not values:
        raise AmmgcError("values: no values given")
    return list(dict.fromkeys(values))


def _checked(param: str, value: float) -> float:
    if param != "p_neg" and (value != int(value) or value < 1):
        raise AmmgcError(f"{param} must be a positive integer, not {value:g}")
    if value <= 0:
        raise AmmgcError(f"p_neg must be positive, not {value:g}")
    return value


def sensitivity_variant(base: AMMGC, param: str, value: float) -> AMMGC:
    """A copy of the base AMMGC with ``param`` set to ``value`` (hidden sizes derived from the base ones)."""
    value = _checked(param, value)
    hidden = tuple(base.config.hidden)
    h1, h2 = hidden[0], hidden[-1]
    if param == "layers":
        return methods.clone(base).set_params(hidden=(h1,) * (int(value) - 1) + (h2,))
    if param == "width":
        return methods.clone(base).set_params(hidden=(*hidden[:-1], int(value)))
    if param == "p_neg":
        return methods.clone(base).set_params(p_neg=float(value))  # a float as the default is: equal looks equal
    raise AmmgcError(f"unknown parameter {param!r}; choose one of {', '.join(PARAMS)}")


def run_sensitivity(base: AMMGC, dataset: Dataset, cv: Splitter, *, param: str, values: Sequence[float] | None = None,
                    jobs: int = 1, out: str | os.PathLike[str] = "runs/sensitivity", progress: bool = False
                    ) -> list[dict[str, Any]]:
    """Cross-validate the base AMMGC at each value of ``param`` under ``cv``; write OUT/sensitivity.md,
    sensitivity.csv, figure3.png and OUT/<param>-<value>/metrics.json. Returns the table's rows."""
    if param not in PARAMS:
        raise AmmgcError(f"unknown parameter {param!r}; choose one of {', '.join(PARAMS)}")
    values = list(values) if values else list(PARAMS[param])
    varied = "p_neg" if param == "p_neg" else "hidden"
    if varied in base.changed_params():
        raise AmmgcError(f"option {varied} conflicts with the parameter being varied")
    variants = [sensitivity_variant(base, param, v) for v in values]  # validates before any training
    for variant in variants:
        variant.check_params()
    out = ensure_writable_dir(out)
    dataset = methods.prepare(base, dataset)
    views = base.inputs(dataset)
    params = cv.params()
    n_folds, repeats, seed = params.get("n_folds", 1), params.get("repeats", 1), params["seed"]
    rows: list[dict[str, Any]] = []
    for value, variant in zip(values, variants, strict=True):
        key = f"{param}-{value:g}"
        result = cross_validate(variant, dataset, cv, jobs=jobs, store=out / key, progress=progress)
        body = write_metrics(result, out / key, views, dataset.source, {"param": param, "value": value})
        hidden = list(variant.config.hidden)
        extra = {"param": param, "value": value, "hidden": hidden, "embedding_dim": len(views["modals"]) * hidden[-1]}
        rows.append(result_row(key, f"{param} = {value:g}", "ours", body["mean"], body["std"], len(body["folds"]),
                               extra))
        if param == "p_neg" and value in TABLE3 and dataset.paper:
            paper = TABLE3[value]
            rows.append(result_row(key, f"{param} = {value:g}", "paper", {m: s[0] for m, s in paper.items()},
                                   {m: s[1] for m, s in paper.items()}, 5, {"param": param, "value": value}))
    atomic_write_text(out / "sensitivity.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "sensitivity.md", sensitivity_markdown(rows, param, repeats=repeats, n_folds=n_folds,
                                                                   seed=seed, base=base, views=views))
    plot_sensitivity(rows, param, out / "figure3.png")
    return rows
