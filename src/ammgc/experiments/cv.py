"""One method under one protocol, with the popularity baseline on the same folds, to a written report."""

from __future__ import annotations

import os
from typing import Any

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import CVResult, cross_validate
from ammgc.evaluation.splits import Splitter
from ammgc.io import ensure_writable_dir
from ammgc.reporting import write_cv_outputs


def run_cv(method: Any, dataset: Dataset, cv: Splitter, *, jobs: int = 1, out: str | os.PathLike[str] = "runs/cv",
           progress: bool = False) -> dict[str, Any]:
    """Cross-validate ``method`` under ``cv`` and write metrics.json, report.md and curves.png to ``out``, with
    the baseline a method has to beat on the same folds beside it (``reference_method``). Returns metrics.json's
    record, with the baseline's means under ``reference``."""
    out = ensure_writable_dir(out)
    if cv.needs_publications:
        dataset = dataset.with_publications()
    result = cross_validate(method, dataset, cv, jobs=jobs, store=out, progress=progress)
    baseline = reference_method(dataset)
    reference = None
    if methods.label(method) != baseline:
        reference = cross_validate(methods.get(baseline), dataset, cv, store=out / f"{baseline}-same-folds")
    body = write_result(result, dataset, out, reference=reference)
    if reference is not None:
        body = {**body, "reference": {"method": baseline, "mean": reference.mean, "sem": reference.sem}}
    return body


def reference_method(dataset: Dataset) -> str:
    """The strongest simple baseline the dataset allows: popularity by publications where it knows them (the
    benchmark does), by pairs otherwise."""
    return "popularity-studies" if dataset.publications is not None else "popularity"


def write_result(result: CVResult, dataset: Dataset, out: os.PathLike[str], *, reference: CVResult | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``write_cv_outputs`` of a finished run; a failed write leaves the finished folds to resume from."""
    from pathlib import Path

    out = Path(out)
    try:
        return write_cv_outputs(result, out, views=result.inputs, dataset_source=dataset.source,
                                dataset_name=dataset.name, reference=reference, extra=extra)
    except OSError as exc:
        raise AmmgcError(f"cannot write the results to {out}: {exc.strerror or exc}; the finished folds are "
                         f"kept in {out / 'folds'} and a rerun writes the results without training") from None
