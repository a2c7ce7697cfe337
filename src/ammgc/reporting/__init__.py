"""Every table and figure the tool writes: experiments compute results, this package renders them.

``ammgc.reporting.tables`` builds the Markdown pages, ``ammgc.reporting.figures`` draws the PNG figures;
this module writes the files of one cross-validated configuration (metrics.json, report.md, curves.png).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ammgc.evaluation.runner import CVResult, iter_curves, summarise
from ammgc.io import atomic_write_json, atomic_write_text
from ammgc.reporting.figures import curve_label, plot_curves, prevalence
from ammgc.reporting.tables import report_markdown


def payload(result: CVResult, views: dict[str, Any] | None, dataset_source: str, extra: dict[str, Any] | None = None,
            *, dataset_name: str = "") -> dict[str, Any]:
    """The metrics.json record of a CV run: configuration, views, data, every fold and the summaries."""
    body = summarise(result)
    return {"method": body["method"], "config": body["config"], "split": body["split"],
            "views": views or {"drug": [], "mirna": [], "go_substitute": False},
            "data": dataset_source, "dataset": dataset_name, **(extra or {}),
            "folds": body["folds"], "mean": body["mean"], "std": body["std"], "sem": body["sem"]}


def write_metrics(result: CVResult, out: Path, views: dict[str, Any] | None, dataset_source: str,
                  extra: dict[str, Any] | None = None, *, dataset_name: str = "") -> dict[str, Any]:
    """Write ``out/metrics.json`` (``payload``) and return it."""
    body = payload(result, views, dataset_source, extra, dataset_name=dataset_name)
    atomic_write_json(out / "metrics.json", body)
    return body


def write_cv_outputs(result: CVResult, out: Path, *, views: dict[str, Any] | None, dataset_source: str,
                     dataset_name: str = "", extra: dict[str, Any] | None = None,
                     reference: CVResult | None = None) -> dict[str, Any]:
    """metrics.json, report.md and curves.png for one method's CV run; ``reference`` (a baseline on the same
    folds) joins the report and the curves."""
    body = write_metrics(result, out, views, dataset_source, extra, dataset_name=dataset_name)
    rows = [(result.method, body)]
    curves = [(curve_label(result.method, body), list(iter_curves(result)))]
    if reference is not None:
        reference_body = payload(reference, None, dataset_source, dataset_name=dataset_name)
        name = f"{reference.label or reference.method}, same folds"
        rows.append((name, reference_body))
        curves.append((curve_label(name, reference_body), list(iter_curves(reference))))
    atomic_write_text(out / "report.md", report_markdown(rows, title=f"Cross-validation of {result.method}"))
    plot_curves(curves, out / "curves.png", baseline=prevalence([body]))
    return body
