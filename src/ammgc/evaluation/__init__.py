"""Evaluation protocol of the paper: splits, metrics, the cross-validation runner and its result store; the open
benchmark (``export_folds``: a protocol's folds as files; ``evaluate_predictions``: any tool's scores of them
graded as ``cross_validate`` grades ammgc's own methods)."""

from importlib import import_module
from typing import Any

#: public name -> module that defines it (imported on first use, so importing a submodule stays light)
_LAZY = {
    "export_folds": "ammgc.evaluation.open_benchmark",
    "read_export": "ammgc.evaluation.open_benchmark",
    "grade_predictions": "ammgc.evaluation.open_benchmark",
    "evaluate_predictions": "ammgc.experiments.grade",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
