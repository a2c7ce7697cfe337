"""The PNG figures: ROC/PR curves, Table 1's bars, Figure 3's lines, Figure 2's heatmap, the reliability diagram.

matplotlib is imported only when a figure is drawn (it costs a second), always with the file-only Agg
backend, so no figure needs a display.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ammgc.io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ammgc.evaluation.calibration import Calibration

SENSITIVITY_AXIS_LABELS = {"layers": "GCN layers",
                           "width": "second-layer width (fused embedding = modals x width)",
                           "p_neg": "negatives per positive (p)"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Figure, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open one alive)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        _pyplot().close(fig)
    return buffer.getvalue()


def curve_label(name: str, body: dict[str, Any]) -> str:
    """A method's legend entry: its name with mean AUC and AP over folds."""
    return f"{name} (AUC {body['mean']['auc']:.3f}, AP {body['mean']['ap']:.3f})"


def prevalence(bodies: list[dict[str, Any]]) -> float | None:
    """Mean share of positives among the test pairs of the folds (the PR curve of a random ranking)."""
    values = [f["prevalence"] for body in bodies for f in body["folds"] if "prevalence" in f]
    return float(np.mean(values)) if values else None


def plot_curves(result_curves: list[tuple[str, list[dict[str, list[float]]]]], path: Path, *,
                baseline: float | None = None) -> None:
    """Mean ROC and PR curves over folds, one line per method; ``baseline`` is the PR panel's prevalence."""
    plt = _pyplot()
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4.5))
    for label, curves in result_curves:
        if not curves:
            continue
        grid = np.asarray(curves[0]["grid"])
        tpr = np.mean([c["tpr"] for c in curves], axis=0)
        precision = np.mean([c["precision"] for c in curves], axis=0)
        roc_ax.plot(grid, tpr, label=label)
        pr_ax.plot(grid, precision, label=label)
    roc_ax.plot([0, 1], [0, 1], ls=":", color="grey", label="random (AUC 0.5)")
    if baseline is not None:
        pr_ax.axhline(baseline, ls=":", color="grey", label=f"random (prevalence {baseline:.4f})")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (mean over folds)")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (mean over folds)")
    for ax in (roc_ax, pr_ax):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    atomic_write_bytes(path, _png(fig))


def plot_table1(rows: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars of AUPR and AUC per method, ours and the paper's, with standard deviations as error bars."""
    plt = _pyplot()
    names = [r["method"] for r in rows]
    x = np.arange(len(names))
    width = 0.38
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 1.5 * len(names) + 2), 4.2))
    for ax, metric in zip(axes, ("aupr", "auc"), strict=True):
        ours = [r[metric] for r in rows]
        ax.bar(x - width / 2, ours, width, yerr=[r[f"{metric}_std"] for r in rows], capsize=3, label="ours")
        paper = [r[f"{metric}_paper"] if r[f"{metric}_paper"] is not None else np.nan for r in rows]
        paper_err = [r[f"{metric}_paper_std"] if r[f"{metric}_paper_std"] is not None else 0.0 for r in rows]
        ax.bar(x + width / 2, paper, width, yerr=paper_err, capsize=3, label="paper", alpha=0.75)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_title(metric.upper())
        if metric == "auc":
            # AUCs differ in the second decimal: a zero baseline would hide the differences
            low = np.nanmin([*ours, *paper])
            ax.set_ylim(max(0.0, low - 0.05), 1.0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=2, fontsize=9)
    fig.suptitle("Comparison methods (mean ± std over folds)")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    atomic_write_bytes(path, _png(fig))


def plot_sensitivity(rows: list[dict[str, Any]], param: str, path: Path) -> None:
    """AUPR and AUC against the parameter, error bars = std over folds; the paper's points where known."""
    plt = _pyplot()
    mine = [r for r in rows if r["source"] == "ours"]
    paper = [r for r in rows if r["source"] == "paper"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("aupr", "auc"), strict=True):
        x = np.array([r["value"] for r in mine], dtype=float)
        ax.errorbar(x, [r[metric] for r in mine], yerr=[r[f"{metric}_std"] for r in mine], marker="o", capsize=3,
                    label="ours")
        if paper:
            ax.errorbar([r["value"] for r in paper], [r[metric] for r in paper],
                        yerr=[r[f"{metric}_std"] for r in paper], marker="s", ls="--", capsize=3, label="paper")
        if param == "width":
            ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set(xlabel=SENSITIVITY_AXIS_LABELS[param], ylabel=metric.upper(), title=f"{metric.upper()} vs {param}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_bytes(path, _png(fig))


def plot_attention(coefficients: np.ndarray, names: list[str], summary: pd.DataFrame, path: Path) -> None:
    """Heatmap of the (modal x dimension) coefficients of one model, and each modal's mean coefficient;
    ``names`` label the modals (rows of ``coefficients`` and of ``summary``)."""
    plt = _pyplot()
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
    atomic_write_bytes(path, _png(fig))


def reliability_png(calibration: Calibration) -> bytes:
    """Observed against calibrated probability (held-out folds, equal-mass bins), and expected precision by
    rank, as PNG bytes (the HTML page embeds them)."""
    from ammgc.evaluation.calibration import GRID

    plt = _pyplot()
    predicted, observed, _ = calibration.reliability
    measured = calibration.measured[calibration.method]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    top = 1.1 * max(predicted.max(), observed.max())
    left.plot([0, top], [0, top], ls=":", color="grey", label="perfect")
    left.plot(predicted, observed, marker="o",
              label=f"{calibration.method} (Brier {measured['brier']:.4f}, ECE {measured['ece']:.4f})")
    left.set(xlim=(0, top), ylim=(0, top), xlabel="calibrated probability (held-out fold)",
             ylabel="observed share of positives",
             title=f"Reliability ({calibration.protocol} split, {calibration.folds} folds)")
    left.legend(fontsize=8)
    right.semilogx(GRID[1:], calibration.precision_knots[1:], label="expected precision")
    right.semilogx(GRID[1:], calibration.probability(GRID[1:]), label="probability")
    interval = calibration.interval(GRID[1:])
    if interval is not None:
        right.fill_between(GRID[1:], *interval, alpha=0.25, color="tab:orange", label="probability, 95% interval")
    right.axhline(calibration.prevalence, ls=":", color="grey", label=f"prevalence {calibration.prevalence:.4f}")
    right.set(xlabel="top fraction of candidate pairs", ylabel="share of held-out positives",
              title="Expected precision and probability by rank")
    right.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig, dpi=110)


def plot_reliability(calibration: Calibration, path: Path) -> None:
    """Write the reliability diagram (``reliability_png``) to ``path``, atomically."""
    atomic_write_bytes(path, reliability_png(calibration))
