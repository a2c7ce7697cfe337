"""Train AMMGC once on every known association, as ``ammgc train`` and ``ammgc predict`` do, and score held-out
drugs or miRNAs as new ones (cold start)."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import time
import warnings
from collections.abc import Sequence

import numpy as np

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.models.ammgc import AMMGC

#: How a model trained for prediction differs from the estimator's default: drug views computed from SMILES, so
#: the training drugs and a new drug given by its SMILES share one feature recipe. On the benchmark (5-fold pair
#: CV, seed 0, the default configuration) this costs nothing: AUPR 0.2555 / AUC 0.9433 against 0.2552 / 0.9428
#: with the shipped files.
PREDICTION_DEFAULTS = {"drug_features": "smiles"}


def prediction_model(**params: object) -> AMMGC:
    """The AMMGC ``train`` fits by default: the estimator's defaults with ``PREDICTION_DEFAULTS``, then ``params``."""
    return AMMGC(**{**PREDICTION_DEFAULTS, **params})


def train(dataset: Dataset, model: AMMGC | None = None, *, seed: int = 0, calibrate: bool = True,
          progress: bool = False) -> AMMGC:
    """Fit ``model`` (default ``prediction_model()``) on every known association of ``dataset``.

    With ``calibrate``, the same configuration is first evaluated out of fold on the study-grouped split
    (``ammgc.evaluation.calibration.calibrate``), which gives the model its probability and expected-precision
    maps (``calibration_``); a dataset too small for that leaves the model uncalibrated and says why in its
    notes. ``info_["notes"]`` keeps what was chosen or left out (views, calibration), for every later use of the
    saved model.
    """
    from ammgc.evaluation.calibration import calibrate as fit_calibration

    model = methods.clone(model) if model is not None else prediction_model()
    model.check_params()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = model.prepare(dataset)
    notes = [str(w.message) for w in caught]
    for w in caught:  # said once here, and kept with the model
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    notes += [n for n in model.inputs(dataset).get("notes", []) if n not in notes]
    calibration = None
    if calibrate:
        try:
            calibration = fit_calibration(model, dataset, seed=seed, progress=progress)
        except AmmgcError as exc:
            # too small to evaluate honestly (too few publications or associations for 5 folds): the model is
            # still trained, and says that its scores are uncalibrated
            notes.append(f"not calibrated: {exc}")
    start = time.perf_counter()
    model.fit(dataset, seed=seed)
    try:
        version = importlib.metadata.version("ammgc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    model.calibration_ = calibration
    model.info_ = {"notes": notes, "drug_features": model.config.drug_features,
                   "seconds": round(time.perf_counter() - start, 2), "ammgc": version,
                   "final_gcn_losses": [losses[-1] if losses else None for losses in model.modal_losses_],
                   "final_attention_loss": model.attention_losses_[-1] if model.attention_losses_ else None}
    return model


# --- cold start: held-out drugs / miRNAs scored as new ones -----------------------------------------


def subset(dataset: Dataset, drugs: Sequence[int], mirnas: Sequence[int]) -> Dataset:
    """The dataset restricted to some drugs and miRNAs (rows of every view sliced alike)."""
    d, m = np.asarray(drugs, dtype=np.int64), np.asarray(mirnas, dtype=np.int64)
    views = {name: dataclasses.replace(v, matrix=v.matrix[d if v.entity == "drug" else m])
             for name, v in dataset.views.items()}
    return Dataset(dataset.associations[np.ix_(d, m)], dataset.drugs.iloc[d].reset_index(drop=True),
                   dataset.mirnas.iloc[m].reset_index(drop=True), views, source=dataset.source, name=dataset.name)


def cold_start_scores(dataset: Dataset, held: Sequence[int], *, split: str, model: AMMGC | None = None,
                      seed: int = 0) -> np.ndarray:
    """p x q scores where the ``held`` drugs (split="drug") or miRNAs (split="mirna") are new entities.

    The model is trained on the dataset without them (they are not in the graph, their pairs are never
    sampled as negatives), then they enter as new drugs and miRNAs do (``ammgc.prediction.new_entities``):
    drugs with their SMILES-derived views, miRNAs with their ``sequence`` row and the training mean of every
    other miRNA view. One difference: a held-out drug keeps the dataset's rows, so its SMILES code encodes the
    dataset's SMILES as written, where a new drug's encodes its canonical SMILES
    (``ammgc.features.drug.new_drug_views``; the fingerprints are the same), which keeps the benchmark's
    cold-start numbers as they were. ``dataset`` must already hold the views the model uses
    (``model.prepare(dataset)``), including the SMILES-derived twins of file drug views.
    """
    from ammgc.features import SMILES_KEY, SMILES_TWIN

    if split not in ("drug", "mirna"):
        raise AmmgcError(f"cold-start split must be 'drug' or 'mirna', not {split!r}")
    axis_size = dataset.n_drugs if split == "drug" else dataset.n_mirnas
    held_idx = np.asarray(sorted(set(int(i) for i in held)), dtype=np.int64)
    keep = np.setdiff1d(np.arange(axis_size), held_idx)
    train_part = (subset(dataset, keep, range(dataset.n_mirnas)) if split == "drug"
                  else subset(dataset, range(dataset.n_drugs), keep))
    fitted = train(train_part, model, seed=seed, calibrate=False)
    scores = np.zeros(dataset.associations.shape, dtype=np.float64)
    if split == "drug":
        if any(v not in SMILES_KEY for v in fitted.drug_views):
            raise AmmgcError("cold-start drugs need drug views computable from SMILES")
        rows = {v: dataset.view(SMILES_TWIN.get(v, v)).matrix[held_idx] for v in fitted.drug_views}
        extended = fitted.extended_scores(rows, {})
        scores[keep] = fitted.predict_scores()
        scores[held_idx] = extended[len(keep):]
    else:
        rows = {v: (dataset.view(v).matrix[held_idx] if v == "sequence"
                    else np.tile(fitted.mirna_means_[v], (len(held_idx), 1))) for v in fitted.mirna_views}
        extended = fitted.extended_scores({}, rows)
        scores[:, keep] = fitted.predict_scores()
        scores[:, held_idx] = extended[:, len(keep):]
    return scores
