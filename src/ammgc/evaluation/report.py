"""Writing results: metrics.json, a Markdown table beside the paper's numbers, ROC/PR curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ammgc.data.benchmark import DATASET_NAME as BENCHMARK_NAME
from ammgc.evaluation.runner import CVResult, iter_curves, summarise
from ammgc.io import atomic_open, atomic_write_json, atomic_write_text
from ammgc.paper import TABLE1, TABLE_METRICS


def paper_means(method: str) -> dict[str, float] | None:
    """The paper's Table 1 means of ``method``, or None when the paper has no row for it."""
    return {m: mean for m, (mean, _) in TABLE1[method].items()} if method in TABLE1 else None

#: The metrics of a ranking as a lab reads it, shown under every protocol.
USER_METRICS = ("ap", "auc", "drug_ap", "drug_auc", "prec_at_20", "prec_at_100", "drug_recall_at_20")
USER_METRIC_LABELS = {"ap": "AP", "auc": "AUC", "drug_ap": "per-drug AP", "drug_auc": "per-drug AUC",
                      "prec_at_20": "P@20", "prec_at_100": "P@100", "drug_recall_at_20": "per-drug R@20"}


def views_note(views: dict[str, Any] | None) -> str:
    """One line saying which views a result used, and whether sequence stood in for GO."""
    if not views or not (views.get("drug") or views.get("mirna")):
        return "Views: none (the method uses the association matrix only)."
    note = f"Views: drug {', '.join(views['drug']) or '-'}; miRNA {', '.join(views['mirna']) or '-'}."
    prior = {"studies": "publications that first reported each node's training pairs",
             "mixed": "geometric mean of training degrees and publications", "pairs": "training degrees"}
    if views.get("prior_counts") in prior:
        note += f" Activity prior: {prior[views['prior_counts']]}."
    if views.get("go_substitute"):
        note += (" The miRNA GO-similarity view was not available: the miRBase `sequence` view stood in for it,"
                 " so numbers are not directly comparable with the paper's.")
    if views.get("warning"):
        note += f" Warning: {views['warning']}"
    return note


def payload(result: CVResult, views: dict[str, Any] | None, dataset_source: str, extra: dict[str, Any] | None = None,
            *, dataset_name: str = "") -> dict[str, Any]:
    body = summarise(result)
    out = {"method": body["method"], "config": body["config"], "split": body["split"],
           "views": views or {"drug": [], "mirna": [], "go_substitute": False},
           "data": dataset_source, "dataset": dataset_name, **(extra or {}),
           "folds": body["folds"], "mean": body["mean"], "std": body["std"], "sem": body["sem"]}
    return out


def format_row(name: str, mean: dict[str, float], std: dict[str, float] | None) -> str:
    cells = [f"{mean[m]:.4f} ± {std[m]:.4f}" if std else f"{mean[m]:.4f}" for m in TABLE_METRICS]
    return f"| {name} | " + " | ".join(cells) + " |"


def report_markdown(results: list[tuple[str, dict[str, Any]]], *, title: str) -> str:
    """A table formatted like the paper's Table 1: ours (mean ± std) then the paper's row."""
    header = "| method | " + " | ".join(m.upper() for m in TABLE_METRICS) + " |"
    lines = [f"# {title}", "", header, "|" + "---|" * (len(TABLE_METRICS) + 1)]
    for label, body in results:
        lines.append(format_row(f"{label} (ours)", body["mean"], body["std"]))
        paper = paper_means(body["method"])
        # the paper's numbers belong to its benchmark and its random-pair protocol only
        on_paper = body.get("dataset") == BENCHMARK_NAME and body.get("split", "pair") == "pair"
        if paper and on_paper and not body["config"].get("modals") and label == body["method"]:
            lines.append(format_row(f"{label} (paper)", paper, None))
    lines += ["", "## Ranking metrics (mean ± standard error)", "",
              "| method | " + " | ".join(USER_METRIC_LABELS[m] for m in USER_METRICS) + " |",
              "|" + "---|" * (len(USER_METRICS) + 1)]
    for label, body in results:
        sem = body.get("sem", {})
        lines.append(f"| {label} | " + " | ".join(
            f"{body['mean'].get(m, float('nan')):.4f} ± {sem.get(m, float('nan')):.4f}" for m in USER_METRICS) + " |")
    lines.append("")
    first = results[0][1]
    n_folds = len(first["folds"])
    repeats = len({f["repeat"] for f in first["folds"]})
    lines.append(f"{repeats} repeat(s) x {n_folds // max(1, repeats)} folds, split by {first.get('split', 'pair')}; "
                 "test set = held-out positives + every unobserved pair. F1/ACC/REC at the max-F1 threshold. "
                 "P@K: share of positives among the top K test pairs; per-drug metrics average over drugs with a "
                 "held-out pair. Standard error over repeat means (over folds where there is one repeat).")
    seen = set()
    for _, body in results:
        note = views_note(body.get("views"))
        if note not in seen:
            lines.append(f"{body['method']}: {note}")
            seen.add(note)
    return "\n".join(lines) + "\n"


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def write_cv_outputs(result: CVResult, out: Path, *, views: dict[str, Any] | None, dataset_source: str,
                     dataset_name: str = "", extra: dict[str, Any] | None = None,
                     reference: CVResult | None = None) -> dict[str, Any]:
    """metrics.json, report.md and curves.png for one method's CV run; ``reference`` (popularity on the same
    folds) joins the report and the curves."""
    body = payload(result, views, dataset_source, extra, dataset_name=dataset_name)
    atomic_write_json(out / "metrics.json", body)
    rows = [(result.method, body)]
    curves = [(curve_label(result.method, body), list(iter_curves(result)))]
    if reference is not None:
        reference_body = payload(reference, None, dataset_source, dataset_name=dataset_name)
        rows.append(("popularity, same folds", reference_body))
        curves.append((curve_label("popularity, same folds", reference_body), list(iter_curves(reference))))
    atomic_write_text(out / "report.md", report_markdown(rows, title=f"Cross-validation of {result.method}"))
    plot_curves(curves, out / "curves.png", baseline=prevalence([body]))
    return body
