"""Train AMMGC once on every known association (the one path every command uses), rank its pairs, and score
held-out drugs or miRNAs as new ones (cold start). The trained model itself is ``ammgc.models.trained``;
new entities as users give them are ``ammgc.prediction.new_entities``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.models.ammgc import AMMGC
from ammgc.models.trained import SMILES_KEY, SMILES_TWIN, TrainedModel, cell_text
from ammgc.prediction.ranking import rank_unobserved, resolve_names

DRUG_FEATURES = ("smiles", "files")
#: Train on the SMILES-derived drug views, so benchmark drugs and new drugs share one feature recipe. On
#: the benchmark (5-fold pair CV, seed 0, default configuration) this costs nothing: AUPR 0.2555 / AUC 0.9433
#: against 0.2552 / 0.9428 with the shipped files.
DEFAULT_DRUG_FEATURES = "smiles"


def training_config(dataset: Dataset, config: dict[str, Any] | None = None, *,
                    drug_features: str = DEFAULT_DRUG_FEATURES) -> tuple[AMMGC.Config, list[str]]:
    """The AMMGC configuration to train on ``dataset``, and notes on what was chosen.

    ``drug_features="smiles"`` swaps the file drug views for their SMILES-derived twins (what a new
    drug gets); ``"files"`` keeps the configured views. miRNA views that the dataset lacks and that
    cannot be computed (a bring-your-own dataset without an expression table) are left out, with a
    note, as long as one miRNA view remains.
    """
    from ammgc.features import COMPUTED_VIEWS, go_view_name
    from ammgc.methods import make_method

    if drug_features not in DRUG_FEATURES:
        raise AmmgcError(f"--drug-features must be one of {', '.join(DRUG_FEATURES)}, not {drug_features!r}")
    model = make_method("ammgc", **(config or {}))
    model.check_params()
    base = model.config
    notes: list[str] = []
    drug_views = tuple(base.drug_views)
    if drug_features == "smiles" and base.node_features != "onehot":
        drug_views = tuple(SMILES_TWIN.get(v, v) for v in drug_views)
        if any(v in SMILES_TWIN.values() for v in drug_views):
            smiles = [cell_text(s) for s in dataset.drugs["smiles"]] if "smiles" in dataset.drugs else []
            missing = [n for n, s in zip(dataset.drug_names, smiles or [""] * dataset.n_drugs, strict=True)
                       if not s.strip()]
            if missing:
                shown = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
                raise DataError(f"{len(missing)} drug(s) have no SMILES ({shown}); drug views are computed from "
                                f"SMILES (--drug-features smiles): add a smiles column to drugs.csv, or use "
                                f"--drug-features files with drug feature tables", file=dataset.source)
    mirna_views = []
    for view in base.mirna_views:
        resolved = go_view_name(dataset) if view == "go" else view
        if resolved in dataset.views or resolved in COMPUTED_VIEWS:
            mirna_views.append(view)
        else:
            notes.append(f"miRNA view {view!r} is not in {dataset.source or dataset.name} and cannot be "
                         f"computed: training without it")
    if not mirna_views:
        raise AmmgcError(f"none of the miRNA views {list(base.mirna_views)} is available in "
                         f"{dataset.source or dataset.name}")
    cfg = dataclasses.replace(base, drug_views=drug_views, mirna_views=tuple(mirna_views))
    if cfg.modals is not None and len(mirna_views) != len(base.mirna_views):
        raise AmmgcError(f"modals={list(cfg.modals)} refers to the configured views, but a miRNA view is "
                         f"missing from the dataset; choose mirna_views explicitly")
    return cfg, notes


def prepare_training(dataset: Dataset, config: dict[str, Any] | None = None, *, mirbase: Path | None = None,
                     drug_features: str = DEFAULT_DRUG_FEATURES) -> tuple[AMMGC.Config, Dataset, list[str]]:
    """The one way AMMGC is set up to train on every known association (``train``, ``predict``, the case
    study, the attention study, ``evaluate-ranking``): its configuration for this dataset (``training_config``),
    and the dataset with the publications and every view it reads, computed now (the model does no I/O)."""
    from ammgc.data.publications import attach_publications
    from ammgc.features import ensure_views, without_unreachable_mirbase

    config, dataset, offline_note = without_unreachable_mirbase(dataset, dict(config or {}), mirbase=mirbase)
    cfg, notes = training_config(dataset, config, drug_features=drug_features)
    if offline_note:
        notes.insert(0, offline_note)
    model = AMMGC(cfg)
    dataset = attach_publications(dataset, model.publications_use())
    specs = model.modal_specs(dataset)
    dataset = ensure_views(dataset, [v for s in specs for v in (*s.drug_views, *s.mirna_views)], mirbase=mirbase)
    return cfg, dataset, notes


def train_model(dataset: Dataset, config: dict[str, Any] | None = None, *, seed: int = 0,
                mirbase: Path | None = None, drug_features: str = DEFAULT_DRUG_FEATURES, calibrate: bool = False,
                progress: bool = True) -> TrainedModel:
    """Train AMMGC on every known association of ``dataset`` and collect it for saving and prediction.

    With ``calibrate``, the same configuration is first evaluated out of fold on the study-grouped
    split (``ammgc.evaluation.calibration``), which gives the model its probability and expected-precision maps.
    """
    import importlib.metadata

    cfg, dataset, notes = prepare_training(dataset, config, mirbase=mirbase, drug_features=drug_features)
    model = AMMGC(cfg)
    calibration = None
    if calibrate:
        from ammgc.evaluation.calibration import fit_calibration, out_of_fold

        try:
            oof, protocol = out_of_fold(dataset, lambda train, fold_seed: AMMGC(cfg).fit(dataset, train,
                                                                                          seed=fold_seed).score(),
                                        seed=seed, progress=progress)
            calibration = fit_calibration(oof, protocol=protocol)
        except AmmgcError as exc:
            # too small to evaluate honestly (too few publications or associations for 5 folds): the model is
            # still trained, and says that its scores are uncalibrated
            notes.append(f"not calibrated: {exc}")
    start = time.perf_counter()
    model.fit(dataset, seed=seed)
    seconds = time.perf_counter() - start
    try:
        version = importlib.metadata.version("ammgc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    info = {"notes": notes, "drug_features": drug_features, "seconds": round(seconds, 2), "ammgc": version,
            "final_gcn_losses": [losses[-1] if losses else None for losses in model.modal_losses_],
            "final_attention_loss": model.attention_losses_[-1] if model.attention_losses_ else None}
    trained = TrainedModel.from_fitted(model, dataset, seed=seed, mirbase=mirbase, info=info)
    return dataclasses.replace(trained, calibration=calibration)


# --- new entities from the command line -------------------------------------------------------------


def rank(dataset: Dataset, scores: np.ndarray, *, drugs: Sequence[str] = (), mirnas: Sequence[str] = (),
         new_drugs: Sequence[int] = (), new_mirnas: Sequence[int] = (), top: int | None = None) -> pd.DataFrame:
    """Unobserved pairs by score. ``drugs`` / ``mirnas`` (names) restrict the ranking.

    With new drugs or miRNAs, only pairs involving one of them are ranked, one ranking per new entity (in the
    order given, new drugs first), so that a new drug's ranks do not depend on the other new drugs beside it:
    a new drug's ranking holds its pairs with every miRNA (new ones included), a new miRNA's its pairs with
    the known drugs (its pairs with new drugs are in their rankings); ``top`` applies to each.
    """
    drug_idx = resolve_names(drugs, dataset.drug_names, what="drug") if drugs else None
    mirna_idx = resolve_names(mirnas, dataset.mirna_names, what="miRNA") if mirnas else None
    if not new_drugs and not new_mirnas:
        return rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx, top=top)
    table = rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx)
    new_drug_rows = table["drug_index"].isin(list(new_drugs)).to_numpy()
    groups = [table[new_drug_rows & (table["drug_index"] == i).to_numpy()] for i in new_drugs]
    groups += [table[~new_drug_rows & (table["mirna_index"] == j).to_numpy()] for j in new_mirnas]
    groups = [g.iloc[:top].assign(rank=np.arange(1, len(g.iloc[:top]) + 1)) for g in groups]
    return pd.concat(groups, ignore_index=True)


# --- cold start: held-out drugs / miRNAs scored as new ones -----------------------------------------


def subset(dataset: Dataset, drugs: Sequence[int], mirnas: Sequence[int]) -> Dataset:
    """The dataset restricted to some drugs and miRNAs (rows of every view sliced alike)."""
    d, m = np.asarray(drugs, dtype=np.int64), np.asarray(mirnas, dtype=np.int64)
    views = {name: dataclasses.replace(v, matrix=v.matrix[d if v.entity == "drug" else m])
             for name, v in dataset.views.items()}
    return Dataset(dataset.associations[np.ix_(d, m)], dataset.drugs.iloc[d].reset_index(drop=True),
                   dataset.mirnas.iloc[m].reset_index(drop=True), views, source=dataset.source, name=dataset.name)


def cold_start_scores(dataset: Dataset, held: Sequence[int], *, split: str, config: dict[str, Any] | None = None,
                      seed: int = 0, mirbase: Path | None = None,
                      drug_features: str = DEFAULT_DRUG_FEATURES) -> np.ndarray:
    """p x q scores where the ``held`` drugs (split="drug") or miRNAs (split="mirna") are new entities.

    The model is trained on the dataset without them (they are not in the graph, their pairs are never
    sampled as negatives), then they enter as ``ammgc predict --new-drug / --new-mirna`` would add them:
    drugs with their SMILES-derived views, miRNAs with their ``sequence`` row and the training mean of
    every other miRNA view. One difference: a held-out drug keeps the dataset's rows, so its SMILES code
    encodes the dataset's SMILES as written, where ``predict`` encodes a new drug's canonical SMILES
    (``ammgc.features.drug.new_drug_views``; the fingerprints are the same), which keeps the benchmark's
    cold-start numbers as they were. ``dataset`` must already hold the views the configuration uses
    (``ensure_views``), including the SMILES-derived twins of file drug views.
    """
    if split not in ("drug", "mirna"):
        raise AmmgcError(f"cold-start split must be 'drug' or 'mirna', not {split!r}")
    axis_size = dataset.n_drugs if split == "drug" else dataset.n_mirnas
    held_idx = np.asarray(sorted(set(int(i) for i in held)), dtype=np.int64)
    keep = np.setdiff1d(np.arange(axis_size), held_idx)
    train = (subset(dataset, keep, range(dataset.n_mirnas)) if split == "drug"
             else subset(dataset, range(dataset.n_drugs), keep))
    model = train_model(train, config, seed=seed, mirbase=mirbase, drug_features=drug_features)
    scores = np.zeros(dataset.associations.shape, dtype=np.float64)
    if split == "drug":
        if any(v not in SMILES_KEY for v in model.drug_views):
            raise AmmgcError("cold-start drugs need drug views computable from SMILES")
        rows = {v: dataset.view(SMILES_TWIN.get(v, v)).matrix[held_idx] for v in model.drug_views}
        extended = model.extended_scores(rows, {})
        scores[keep] = model.scores
        scores[held_idx] = extended[len(keep):]
    else:
        rows = {v: (dataset.view(v).matrix[held_idx] if v == "sequence"
                    else np.tile(model.mirna_means[v], (len(held_idx), 1))) for v in model.mirna_views}
        extended = model.extended_scores({}, rows)
        scores[:, keep] = model.scores
        scores[:, held_idx] = extended[:, len(keep):]
    return scores
