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

from ammgc.data import load_dataset
from ammgc.data.benchmark import DATASET_NAME
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.report import curve_label, payload, plot_curves, prevalence
from ammgc.evaluation.runner import cross_validate, iter_curves
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.methods import make_method
from ammgc.paper import TABLE2, TABLE_METRICS, Stat


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

GO_SUBSTITUTE_NOTE = ("The miRNA GO-similarity view was not available: the miRBase `sequence` view stood in for it "
                      "in the rows marked †, so they are not directly comparable with the paper's.")

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


def variant_config(base: dict[str, Any], variant: Variant) -> dict[str, Any]:
    """The base AMMGC options with the variant's own settings on top."""
    return {**base, **variant.overrides}


# --- tables shared with the sensitivity study -------------------------------------------------------------

def cell(mean: float, std: float | None) -> str:
    return f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}"


def result_row(key: str, label: str, source: str, mean: dict[str, float], std: dict[str, float] | None,
               n_folds: int | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One CSV row: metric means and standard deviations of ours or the paper."""
    row: dict[str, Any] = {"key": key, "label": label, "source": source, **(extra or {})}
    for m in TABLE_METRICS:
        row[m] = mean.get(m)
        row[f"{m}_std"] = std.get(m) if std else None
    row["ap"] = mean.get("ap")
    row["folds"] = n_folds
    return row


def ours(body: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    return body["mean"], body["std"]


def markdown_table(rows: list[dict[str, Any]], first_column: str) -> list[str]:
    """Rows of ours and the paper's numbers, in the layout of the paper's tables."""
    lines = [f"| {first_column} | source | " + " | ".join(m.upper() for m in TABLE_METRICS) + " |",
             "|---|---|" + "---|" * len(TABLE_METRICS)]
    for r in rows:
        cells = " | ".join(cell(r[m], r[f"{m}_std"]) if r[m] is not None else "–" for m in TABLE_METRICS)
        lines.append(f"| {r['label']} | {r['source']} | {cells} |")
    return lines


#: The settings every report states, so that numbers from different defaults are never confused.
_KEY_SETTINGS = ("hidden", "epochs_gcn", "epochs_attention", "p_neg", "degree_prior")


def config_note(base: dict[str, Any]) -> str:
    """The AMMGC settings in effect and what the user changed (reduced epochs must be visible)."""
    effective = make_method("ammgc", **base).config_dict()
    shown = ", ".join(f"{k}={effective[k]}" for k in _KEY_SETTINGS if k in effective)
    changed = ", ".join(f"{k}={v}" for k, v in sorted(base.items())) if base else "none"
    return f"AMMGC settings: {shown} (overrides of the defaults: {changed})."


def protocol_note(repeats: int, n_folds: int, seed: int) -> str:
    return (f"Ours: {repeats} repeat(s) x {n_folds}-fold CV (seed {seed}), mean ± std over folds; test set = held-out "
            "positives + every unobserved pair; F1/ACC/REC at the max-F1 threshold. Paper: 10 x 5-fold CV.")


# --- the study --------------------------------------------------------------------------------------------

def _views_short(views: dict[str, Any]) -> str:
    if not views["drug"] and not views["mirna"]:
        return "none (one-hot node features)"
    return f"drug {', '.join(views['drug'])}; miRNA {', '.join(views['mirna'])}"


def _claims(bodies: dict[str, dict[str, Any]], variants: list[Variant]) -> list[str]:
    """The paper's claim that every variant falls short of the full model, checked on our numbers."""
    if "full" not in bodies:
        return []
    full, paper_full = bodies["full"]["mean"], VARIANTS[0].paper
    lines = ["## Does the full model beat each variant?", "",
             "| variant | paper: full − variant AUPR / AUC | ours: full − variant AUPR / AUC | AUPR agrees |",
             "|---|---|---|---|"]
    for v in variants:
        if v.key == "full":
            continue
        mine = bodies[v.key]["mean"]
        paper_d = (paper_full["aupr"][0] - v.paper["aupr"][0], paper_full["auc"][0] - v.paper["auc"][0])
        our_d = (full["aupr"] - mine["aupr"], full["auc"] - mine["auc"])
        agrees = "yes" if our_d[0] > 0 else "no"
        lines.append(f"| {v.label} | {paper_d[0]:+.4f} / {paper_d[1]:+.4f} | {our_d[0]:+.4f} / {our_d[1]:+.4f} "
                     f"| {agrees} |")
    return [*lines, ""]


def run_ablation(*, data: str | os.PathLike[str] | Dataset | None = None,
                 mirbase: str | os.PathLike[str] | None = None, config: dict[str, Any] | None = None,
                 variants: Sequence[str] | None = None, n_folds: int = 5, repeats: int = 10, seed: int = 0,
                 jobs: int = 1, out: str | os.PathLike[str] = "runs/ablation", progress: bool = True
                 ) -> dict[str, Any]:
    """Cross-validate each variant and popularity; write OUT/table2.md, table2.csv, curves.png and
    OUT/<variant>/metrics.json. Returns {variant key: metrics.json payload}."""
    from ammgc.experiments.cv import prepare_dataset

    out = ensure_writable_dir(out)
    base = dict(config or {})
    clash = sorted(set(base) & set(_VARIANT_FIELDS))
    if clash:
        raise AmmgcError(f"option(s) {clash} are what the ablation variants set; leave them out")
    chosen = select_variants(variants)
    dataset = data if isinstance(data, Dataset) else load_dataset(data)
    # The full model needs every view any variant uses: compute them once, before any fold.
    dataset, _ = prepare_dataset(dataset, "ammgc", base, mirbase)
    bodies: dict[str, dict[str, Any]] = {}
    curves = []
    for v in chosen:
        cfg = variant_config(base, v)
        views = make_method("ammgc", **cfg).views_used(dataset)
        result = cross_validate(dataset, "ammgc", cfg, n_folds=n_folds, repeats=repeats, seed=seed, jobs=jobs,
                                out=out / v.key, progress=progress)
        bodies[v.key] = payload(result, views, dataset.source, {"variant": v.key, "label": v.label})
        atomic_write_json(out / v.key / "metrics.json", bodies[v.key])
        curves.append((curve_label(v.label, bodies[v.key]), list(iter_curves(result))))
    pop = cross_validate(dataset, "popularity", {}, n_folds=n_folds, repeats=repeats, seed=seed, jobs=1,
                         out=out / "popularity", progress=progress)
    bodies["popularity"] = payload(pop, None, dataset.source, {"variant": "popularity", "label": "popularity"})
    atomic_write_json(out / "popularity" / "metrics.json", bodies["popularity"])
    curves.append((curve_label("popularity", bodies["popularity"]), list(iter_curves(pop))))

    rows = []
    for v in chosen:
        body = bodies[v.key]
        marker = " †" if body["views"].get("go_substitute") else ""
        rows.append(result_row(v.key, v.label + marker, "ours", *ours(body), len(body["folds"])))
        if dataset.name != DATASET_NAME:
            continue  # the paper's numbers belong to its benchmark
        rows.append(result_row(v.key, v.label, "paper", {m: s[0] for m, s in v.paper.items()},
                               {m: s[1] for m, s in v.paper.items()}, 50))
    rows.append(result_row("popularity", "popularity", "ours", *ours(bodies["popularity"]),
                           len(bodies["popularity"]["folds"])))
    atomic_write_text(out / "table2.csv", pd.DataFrame(rows).to_csv(index=False))
    substituted = [v for v in chosen if bodies[v.key]["views"].get("go_substitute")]
    lines = ["# Ablation study (paper Table 2)", "", *markdown_table(rows, "variant"), "",
             protocol_note(repeats, n_folds, seed), config_note(base)]
    if substituted:
        lines += ["", "† " + GO_SUBSTITUTE_NOTE]
    lines += ["", "Views per variant:", *(f"- {v.label}: {_views_short(bodies[v.key]['views'])}" for v in chosen)]
    lines += ["", *_claims(bodies, chosen)]
    atomic_write_text(out / "table2.md", "\n".join(lines).rstrip() + "\n")
    plot_curves(curves, out / "curves.png", baseline=prevalence([bodies["popularity"]]))
    return bodies

