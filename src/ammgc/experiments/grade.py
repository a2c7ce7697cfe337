"""A tool's scores of exported folds graded to the files ``ammgc cv`` writes, with the references beside them.

``evaluate_predictions`` grades with ``ammgc.evaluation.open_benchmark.grade_predictions`` and writes
``OUT/metrics.json`` (the layout of ``ammgc cv``'s, plus the export it was graded on and the paired
differences from each reference), ``OUT/report.md``, ``OUT/curves.png`` and ``OUT/<reference>/metrics.json``.
Everything is checked and graded before the first file is written, so a bad prediction writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.metrics import METRICS
from ammgc.evaluation.open_benchmark import REFERENCES, grade_predictions
from ammgc.evaluation.runner import iter_curves
from ammgc.experiments.compare import paired_difference
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.reporting import payload
from ammgc.reporting.figures import curve_label, plot_curves, prevalence
from ammgc.reporting.tables import grade_markdown


def _check_out(out: Path, inputs: Sequence[Path]) -> None:
    """The output folder is no input and lies inside none (never written onto what is read)."""
    if out.exists() and not out.is_dir():
        raise AmmgcError(f"{out} is a file; the grade is written to a folder")
    for source in inputs:
        if out.resolve() == source.resolve() or out.resolve().is_relative_to(source.resolve()):
            raise AmmgcError(f"the output folder {out} lies in an input of the grade ({source}); write it elsewhere")


def evaluate_predictions(folds: str | os.PathLike[str], predictions: str | os.PathLike[str],
                         out: str | os.PathLike[str] | None = None, *, dataset: Dataset | None = None,
                         label: str | None = None, references: Sequence[str] = REFERENCES) -> dict[str, Any]:
    """Grade ``predictions/<fold-id>/scores.csv`` on the folds exported to ``folds`` and return the metrics.json
    record; with ``out``, write it and the report there. ``label`` names the predictions (default: the
    predictions folder's name); ``dataset`` is the one the folds came from (see ``grade_predictions``)."""
    folds, predictions = Path(folds), Path(predictions)
    label = label or predictions.resolve().name or "predictions"
    if out is not None:
        _check_out(Path(out), [folds, predictions])
    grade = grade_predictions(folds, predictions, dataset=dataset, label=label, references=references)
    manifest = grade.export.manifest
    name = str(manifest["dataset"].get("name", ""))
    source = dataset.source if dataset is not None else str(folds)
    bodies = {ref: payload(result, None, source, {"label": ref}, dataset_name=name)
              for ref, result in grade.references.items()}
    body = payload(grade.result, None, source, dataset_name=name)
    differences = {ref: {m: paired_difference(body, other, m) for m in METRICS} for ref, other in bodies.items()}
    export = {"folds": str(folds), "folds_sha256": manifest["folds_sha256"], "ammgc": manifest.get("ammgc"),
              "dataset": name, "dataset_sha256": manifest["dataset"].get("sha256")}
    body = payload(grade.result, None, source, {
        "label": label, "protocol": grade.export.protocol, "export": export, "predictions": str(predictions),
        "references": {ref: f"{ref}/metrics.json" for ref in bodies},
        "paired_differences": {ref: {m: {"mean": d, "sem": s} for m, (d, s) in diff.items()}
                               for ref, diff in differences.items()}}, dataset_name=name)
    if out is None:
        return body
    out = ensure_writable_dir(out)
    atomic_write_json(out / "metrics.json", body)
    for ref, ref_body in bodies.items():
        atomic_write_json(ensure_writable_dir(out / ref) / "metrics.json", ref_body)
    atomic_write_text(out / "report.md", grade_markdown(label, body, bodies, differences, export=export))
    curves = [(curve_label(label, body), list(iter_curves(grade.result))),
              *((curve_label(f"{ref}, same folds", bodies[ref]), list(iter_curves(result)))
                for ref, result in grade.references.items())]
    plot_curves(curves, out / "curves.png", baseline=prevalence([body]))
    return body
