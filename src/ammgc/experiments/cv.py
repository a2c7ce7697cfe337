"""One method under the cross-validation protocol, from data location to written report."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ammgc.data import load_dataset
from ammgc.data.dataset import Dataset
from ammgc.data.publications import attach_publications
from ammgc.errors import AmmgcError
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import DEFAULT_CUTOFFS, PUBLICATION_SPLITS, SplitKind
from ammgc.io import ensure_writable_dir
from ammgc.methods import make_method, resolve_method
from ammgc.reporting import write_cv_outputs


def prepare_dataset(dataset: Dataset, method: str, config: dict[str, Any],
                    mirbase: str | os.PathLike[str] | None = None) -> tuple[Dataset, dict[str, Any] | None]:
    """Compute once, before any fold, the views (and publications) the method needs; return them with the
    views record."""
    model = make_method(method, **config)
    model.check_params()  # before views are computed or publications fetched
    dataset = attach_publications(dataset, model.publications_use())
    views_used = getattr(model, "views_used", None)
    if views_used is None:
        return dataset, None
    from ammgc.features import ensure_views

    views = views_used(dataset)
    dataset = ensure_views(dataset, [*views["drug"], *views["mirna"]], mirbase=Path(mirbase) if mirbase else None)
    return dataset, views_used(dataset)


def available_views(dataset: Dataset, config: dict[str, Any]) -> dict[str, Any]:
    """AMMGC's configuration with views an own dataset can give, as ``ammgc predict`` chooses them: the
    configured drug views from files when the dataset has them, else their SMILES-derived twins; the miRNA
    views it has or can compute. Views set explicitly, and the benchmark, are left as they are; what was
    chosen is said on stderr."""
    import sys

    from ammgc.data.benchmark import DATASET_NAME
    from ammgc.methods import make_method
    from ammgc.prediction.training import training_config

    if dataset.name == DATASET_NAME or ("drug_views" in config and "mirna_views" in config):
        return config
    configured = make_method("ammgc", **config).config
    from_files = all(v in dataset.views for v in configured.drug_views)
    chosen, notes = training_config(dataset, config, drug_features="files" if from_files else "smiles")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    picked = {"drug_views": list(chosen.drug_views), "mirna_views": list(chosen.mirna_views)}
    picked = {k: v for k, v in picked.items() if k not in config}
    print(f"views of {dataset.source or dataset.name}: drug {', '.join(chosen.drug_views)}"
          f"{'' if from_files else ' (computed from SMILES)'}; miRNA {', '.join(chosen.mirna_views)}", file=sys.stderr)
    return {**config, **picked}


def load_for_split(data: str | os.PathLike[str] | Dataset | None, split: str) -> Dataset:
    """The dataset, with the publications of its associations where the split needs them."""
    dataset = data if isinstance(data, Dataset) else load_dataset(data)
    return attach_publications(dataset, "required") if split in PUBLICATION_SPLITS else dataset


def run_cv(*, data: str | os.PathLike[str] | None = None, mirbase: str | os.PathLike[str] | None = None,
           method: str = "ammgc", config: dict[str, Any] | None = None, n_folds: int = 5, repeats: int = 10,
           seed: int = 0, split: SplitKind = "pair", cutoffs: Sequence[float] = DEFAULT_CUTOFFS, jobs: int = 1,
           out: str | os.PathLike[str] = "runs/cv", progress: bool = True) -> dict[str, Any]:
    """Load data, cross-validate ``method`` and write metrics.json, report.md and curves.png to ``out``."""
    out = ensure_writable_dir(out)
    method, preset = resolve_method(method)
    config = {**preset, **(config or {})}
    dataset = load_for_split(data, split)
    offline_note = None
    if method == "ammgc":
        from ammgc.features import without_unreachable_mirbase

        # before the views are picked: views the user set are never dropped, views picked by default may be
        config, dataset, offline_note = without_unreachable_mirbase(
            dataset, config, mirbase=Path(mirbase) if mirbase else None)
        if offline_note:
            print(f"warning: {offline_note}", file=sys.stderr)
        config = available_views(dataset, config)
    dataset, views = prepare_dataset(dataset, method, config, mirbase)
    if offline_note and views is not None:
        views = {**views, "warning": offline_note}
    result = cross_validate(dataset, method, config, n_folds=n_folds, repeats=repeats, seed=seed, split=split,
                            cutoffs=cutoffs, jobs=jobs, out=out, progress=progress)
    # popularity on the same folds beside every result: the baseline a method has to beat
    reference = None if method == "popularity" else cross_validate(
        dataset, "popularity", {}, n_folds=n_folds, repeats=repeats, seed=seed, split=split, cutoffs=cutoffs,
        jobs=1, out=out / "popularity-same-folds", progress=False)
    try:
        return write_cv_outputs(result, out, views=views, dataset_source=dataset.source, dataset_name=dataset.name,
                                reference=reference)
    except OSError as exc:
        raise AmmgcError(f"cannot write the results to {out}: {exc.strerror or exc}; the finished folds are "
                         f"kept in {out / 'folds'} and a rerun writes the results without training") from None
