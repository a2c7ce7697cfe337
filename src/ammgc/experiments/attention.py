"""The attention coefficients of a model trained on every association (the paper's Figure 2).

The paper shows a heatmap of the coefficient each modal gets on each embedding dimension and reads
from it that modals 1 and 3 (the expression-based ones) weigh more than modals 2 and 4 (GO-based).
This experiment draws the same heatmap beside each modal's mean coefficient and checks that reading.
Embedding dimensions are not comparable across training seeds, so the heatmap is that of the first
model; with several models, the per-modal means are averaged over them (error bars: std over models).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.evaluation.report import views_note
from ammgc.experiments.ablation import config_note
from ammgc.experiments.external import fit_on_all
from ammgc.io import atomic_open, atomic_write_json, atomic_write_text, ensure_writable_dir


def coefficient_table(models: list[Any], seeds: list[int], dataset: Dataset) -> pd.DataFrame:
    """One row per (model, modal): the modal's views, its mean and std over dimensions, every coefficient."""
    rows = []
    for seed, model in zip(seeds, models, strict=True):
        coefficients = np.asarray(model.coefficients_)
        for u, name in enumerate(model.modal_names_):
            modal = model.views_used(dataset)["modals"][u]
            row: dict[str, Any] = {"seed": seed, "modal": name, "drug_views": "+".join(modal["drug"]) or "one-hot",
                                   "mirna_views": "+".join(modal["mirna"]) or "one-hot",
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


def plot_attention(coefficients: np.ndarray, names: list[str], summary: pd.DataFrame, path: Path) -> None:
    """Heatmap of the (modal x dimension) coefficients of one model, and each modal's mean coefficient;
    ``names`` label the modals (rows of ``coefficients`` and of ``summary``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (heat_ax, bar_ax) = plt.subplots(1, 2, figsize=(12, 0.6 * len(names) + 2.4),
                                          gridspec_kw={"width_ratios": [5, 1]})
    image = heat_ax.imshow(coefficients, aspect="auto", cmap="viridis", interpolation="nearest")
    heat_ax.set_yticks(range(len(names)), names)
    heat_ax.set(xlabel="embedding dimension", title="Attention coefficients per modal and dimension")
    fig.colorbar(image, ax=heat_ax, fraction=0.03, pad=0.01)
    bar_ax.barh(range(len(names)), summary["mean"], xerr=summary["std_over_models"].fillna(0), color="tab:blue")
    bar_ax.set_yticks(range(len(names)), [])
    bar_ax.set_ylim(len(names) - 0.5, -0.5)
    bar_ax.set(xlabel="mean coefficient", title="Mean per modal")
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


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


def run_attention(*, data: str | os.PathLike[str] | Dataset | None = None,
                  mirbase: str | os.PathLike[str] | None = None, config: dict[str, Any] | None = None,
                  seed: int = 0, models: int = 1, out: str | os.PathLike[str] = "runs/attention",
                  progress: bool = True) -> dict[str, Any]:
    """Train AMMGC on every association (``models`` seeds from ``seed``); write figure2.png,
    attention.csv (every coefficient), attention_summary.csv and attention.md to ``out``."""
    out = ensure_writable_dir(out)
    seeds = list(range(seed, seed + models))
    fitted, dataset, views = fit_on_all(data, "ammgc", config, seeds=seeds, mirbase=mirbase, progress=progress)
    table = coefficient_table(fitted, seeds, dataset)
    summary = modal_summary(table)
    atomic_write_text(out / "attention.csv", table.to_csv(index=False))
    atomic_write_text(out / "attention_summary.csv", summary.to_csv(index=False))
    labels = [f"{r.modal}\n{r.drug_views} × {r.mirna_views}" for r in summary.itertuples()]
    plot_attention(np.asarray(fitted[0].coefficients_), labels, summary, out / "figure2.png")
    fusion = fitted[0].config.fusion
    lines = ["# Attention coefficients (paper Figure 2)", "",
             f"AMMGC trained on all {dataset.n_associations:,} associations; {models} model(s), seeds "
             f"{seeds[0]}..{seeds[-1]}; fusion = {fusion}.", "",
             "| modal | drug views | miRNA views | mean coefficient | std over models | share of dimensions led |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.modal} | {r.drug_views} | {r.mirna_views} | {r.mean:.4f} | {r.std_over_models:.4f} | "
              f"{r.top_share:.1%} |" for r in summary.itertuples()]
    claim = paper_claim(summary)
    lines += ["", *([claim] if claim else []), config_note(dict(config or {})), views_note(views)]
    if fusion == "equal":
        lines.append("With fusion = equal every coefficient is fixed at 1/U: nothing is learned.")
    atomic_write_text(out / "attention.md", "\n".join(lines) + "\n")
    body = {"data": dataset.source, "config": fitted[0].config_dict(), "views": views, "seeds": seeds,
            "summary": summary.to_dict("records"), "claim": claim}
    atomic_write_json(out / "attention.json", body)
    return body
