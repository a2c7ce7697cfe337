"""The ablation study of the paper's Table 2: eight AMMGC variants under the same cross-validation.

Every variant is a configuration of the one AMMGC class (SPEC section 4): equal fusion weights
(w/o attention), one-hot node features (w/o biological features), one GCN on all features
concatenated (w/o multimodal), and each single modal. Each variant's folds are stored under
``OUT/<variant>/folds``, so an interrupted study resumes where it stopped; ``popularity`` is run on the
same folds for scale.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate, iter_curves
from ammgc.evaluation.splits import Splitter
from ammgc.io import atomic_write_text, ensure_writable_dir
from ammgc.models.ammgc import AMMGC
from ammgc.paper import TABLE2, Stat
from ammgc.reporting import write_metrics
from ammgc.reporting.figures import curve_label, plot_curves, prevalence
from ammgc.reporting.tables import result_row, table2_markdown


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    overrides: dict[str, Any]

    @property
    def paper(self) -> dict[str, Stat]:
        return TABLE2[self.key]


#: The variants of the paper's Table 2 (its numbers: ``ammgc.paper.TABLE2``).
VARIANTS: tuple[Variant, ...] = (
    Variant("full", "AMMGC", {}),
    Variant("no_attention", "w/o attention (equal weights)", {"fusion": "equal"}),
    Variant("no_biological", "w/o biological features (one-hot)", {"node_features": "onehot"}),
    Variant("no_multimodal", "w/o multimodal (features concatenated)", {"node_features": "concat"}),
    Variant("modal1", "modal 1 only", {"modals": (1,)}),
    Variant("modal2", "modal 2 only", {"modals": (2,)}),
    Variant("modal3", "modal 3 only", {"modals": (3,)}),
    Variant("modal4", "modal 4 only", {"modals": (4,)}),
)
VARIANT_KEYS = tuple(v.key for v in VARIANTS)

#: The options a variant sets; a base configuration must leave them to the variants.
_VARIANT_FIELDS = ("fusion", "node_features", "modals")


def select_variants(keys: Sequence[str] | None) -> list[Variant]:
    """The named variants in the paper's order (all when ``keys`` is empty)."""
    if not keys:
        return list(VARIANTS)
    unknown = sorted(set(keys) - set(VARIANT_KEYS))
    if unknown:
        raise AmmgcError(f"unknown ablation variant(s) {unknown}; choose from {', '.join(VARIANT_KEYS)}")
    return [v for v in VARIANTS if v.key in keys]


def variant_of(base: AMMGC, variant: Variant) -> AMMGC:
    """A copy of the base AMMGC with the variant's own settings on top."""
    return methods.clone(base).set_params(**variant.overrides)


def run_ablation(base: AMMGC, dataset: Dataset, cv: Splitter, *, variants: Sequence[str] | None = None,
                 jobs: int = 1, out: str | os.PathLike[str] = "runs/ablation", progress: bool = False
                 ) -> dict[str, Any]:
    """Cross-validate each variant of ``base`` and popularity under ``cv``; write OUT/table2.md, table2.csv,
    curves.png and OUT/<variant>/metrics.json. Returns {variant key: metrics.json payload}."""
    out = ensure_writable_dir(out)
    clash = sorted(k for k in _VARIANT_FIELDS if k in base.changed_params())
    if clash:
        raise AmmgcError(f"option(s) {clash} are what the ablation variants set; leave them out")
    chosen = select_variants(variants)
    # The full model needs every view any variant uses: compute them once, before any fold.
    dataset = methods.prepare(base, dataset)
    bodies: dict[str, dict[str, Any]] = {}
    curves = []
    for v in chosen:
        result = cross_validate(variant_of(base, v), dataset, cv, jobs=jobs, store=out / v.key, progress=progress)
        bodies[v.key] = write_metrics(result, out / v.key, result.inputs, dataset.source,
                                      {"variant": v.key, "label": v.label})
        curves.append((curve_label(v.label, bodies[v.key]), list(iter_curves(result))))
    pop = cross_validate(methods.get("popularity"), dataset, cv, store=out / "popularity", progress=progress)
    bodies["popularity"] = write_metrics(pop, out / "popularity", None, dataset.source,
                                         {"variant": "popularity", "label": "popularity"})
    curves.append((curve_label("popularity", bodies["popularity"]), list(iter_curves(pop))))
    params = cv.params()
    n_folds, repeats, seed = params.get("n_folds", 1), params.get("repeats", 1), params["seed"]

    rows = []
    for v in chosen:
        body = bodies[v.key]
        marker = " †" if body["views"].get("go_substitute") else ""
        rows.append(result_row(v.key, v.label + marker, "ours", body["mean"], body["std"], len(body["folds"])))
        if not dataset.paper:
            continue  # the paper's numbers belong to its benchmark
        rows.append(result_row(v.key, v.label, "paper", {m: s[0] for m, s in v.paper.items()},
                               {m: s[1] for m, s in v.paper.items()}, 50))
    pop_body = bodies["popularity"]
    rows.append(result_row("popularity", "popularity", "ours", pop_body["mean"], pop_body["std"],
                           len(pop_body["folds"])))
    atomic_write_text(out / "table2.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "table2.md", table2_markdown(rows, bodies, chosen, repeats=repeats, n_folds=n_folds,
                                                         seed=seed, base=base))
    plot_curves(curves, out / "curves.png", baseline=prevalence([pop_body]))
    return bodies
