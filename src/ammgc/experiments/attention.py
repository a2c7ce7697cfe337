"""The attention coefficients of a model trained on every association (the paper's Figure 2).

The paper shows a heatmap of the coefficient each modal gets on each embedding dimension and reads
from it that modals 1 and 3 (the expression-based ones) weigh more than modals 2 and 4 (GO-based).
This experiment draws the same heatmap beside each modal's mean coefficient and checks that reading.
Embedding dimensions are not comparable across training seeds, so the heatmap is that of the first
model; with several models, the per-modal means are averaged over them (error bars: std over models).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.experiments.external import fit_on_all
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.models.ammgc import AMMGC
from ammgc.reporting.figures import plot_attention
from ammgc.reporting.tables import attention_markdown


def coefficient_table(models: list[Any], seeds: list[int], dataset: Dataset) -> pd.DataFrame:
    """One row per (model, modal): the modal's views, its mean and std over dimensions, every coefficient."""
    rows = []
    for seed, model in zip(seeds, models, strict=True):
        coefficients = np.asarray(model.coefficients_)
        for u, modal in enumerate(model.modals_):
            row: dict[str, Any] = {"seed": seed, "modal": modal.name,
                                   "drug_views": "+".join(modal.drug_views) or "one-hot",
                                   "mirna_views": "+".join(modal.mirna_views) or "one-hot",
                                   "mean": float(coefficients[u].mean()), "std": float(coefficients[u].std()),
                                   "top_share": float((coefficients.argmax(axis=0) == u).mean())}
            row.update({f"dim_{k + 1}": float(c) for k, c in enumerate(coefficients[u])})
            rows.append(row)
    return pd.DataFrame(rows)


def modal_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per modal: mean coefficient averaged over models, its std over models, and the share of dimensions
    on which the modal has the largest coefficient."""
    grouped = table.groupby("modal", sort=False)
    return pd.DataFrame({"drug_views": grouped["drug_views"].first(), "mirna_views": grouped["mirna_views"].first(),
                         "mean": grouped["mean"].mean(), "std_over_models": grouped["mean"].std(ddof=0),
                         "top_share": grouped["top_share"].mean()}).reset_index()


def paper_claim(summary: pd.DataFrame) -> str | None:
    """The paper's reading of Figure 2: modals 1 and 3 weigh more than modals 2 and 4."""
    means = dict(zip(summary["modal"], summary["mean"], strict=True))
    needed = [f"modal {k}" for k in (1, 2, 3, 4)]
    if not all(n in means for n in needed):
        return None
    m1, m2, m3, m4 = (means[n] for n in needed)
    holds = min(m1, m3) > max(m2, m4)
    return (f"Paper: modals 1 and 3 weigh more than modals 2 and 4. Ours: modal 1 {m1:.4f}, modal 2 {m2:.4f}, "
            f"modal 3 {m3:.4f}, modal 4 {m4:.4f} — the claim {'holds' if holds else 'does not hold'} here.")


def run_attention(model: AMMGC, dataset: Dataset, *, seed: int = 0, models: int = 1,
                  out: str | os.PathLike[str] = "runs/attention", progress: bool = False) -> dict[str, Any]:
    """Train ``model`` on every association (``models`` seeds from ``seed``); write figure2.png,
    attention.csv (every coefficient), attention_summary.csv and attention.md to ``out``."""
    out = ensure_writable_dir(out)
    seeds = list(range(seed, seed + models))
    fitted, dataset, views = fit_on_all(model, dataset, seeds=seeds, progress=progress)
    table = coefficient_table(fitted, seeds, dataset)
    summary = modal_summary(table)
    atomic_write_text(out / "attention.csv", table.to_csv(index=False))
    atomic_write_text(out / "attention_summary.csv", summary.to_csv(index=False))
    labels = [f"{r.modal}\n{r.drug_views} × {r.mirna_views}" for r in summary.itertuples()]
    plot_attention(np.asarray(fitted[0].coefficients_), labels, summary, out / "figure2.png")
    fusion = fitted[0].config.fusion
    claim = paper_claim(summary)
    atomic_write_text(out / "attention.md", attention_markdown(summary, n_associations=dataset.n_associations,
                                                               seeds=seeds, fusion=fusion, claim=claim,
                                                               config=model, views=views))
    body = {"data": dataset.source, "config": fitted[0].config_dict(), "views": views, "seeds": seeds,
            "summary": summary.to_dict("records"), "claim": claim}
    atomic_write_json(out / "attention.json", body)
    return body
