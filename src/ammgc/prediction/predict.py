"""What ``ammgc predict`` does, as one library call: rank unobserved pairs of a fitted model, for known and new
drugs and miRNAs, with calibrated probabilities and evidence where asked for."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError, DownloadError
from ammgc.evaluation.calibration import Calibration
from ammgc.models.ammgc import AMMGC
from ammgc.prediction.explain import Evidence, Explainer, evidence_column, new_entity_notes
from ammgc.prediction.new_entities import Extended, NewDrug, NewMirna, check_dataset, extend
from ammgc.prediction.ranking import rank

# What cold-start cross-validation on the benchmark showed (docs: "Cold start"); said wherever it matters.
NEW_DRUG_CAUTION = ("caution: a new drug enters the graph without edges; in drug-split cross-validation on the "
                    "benchmark, AMMGC's rankings for held-out drugs were no better than ranking miRNAs by their "
                    "number of known associations")
NEW_MIRNA_CAUTION = ("caution: a new miRNA enters the graph without edges; in miRNA-split cross-validation on the "
                     "benchmark, AMMGC's rankings for held-out miRNAs were no better than ranking drugs by their "
                     "number of known associations")


#: Column -> what it means, shown as the header's tooltip and in the legend below the table.
COLUMN_HELP = {
    "rank": "position in this ranking (1 = most likely)",
    "drug_index": "the drug's row in the model's drug table (0-based; new drugs follow the training drugs)",
    "drug": "drug name (new drugs are marked)",
    "mirna_index": "the miRNA's row in the model's miRNA table (0-based; new miRNAs follow the training miRNAs)",
    "mirna": "miRNA name (new miRNAs are marked)",
    "score": "the model's logit: a ranking key (higher = more likely), not a probability",
    "percentile": "share of the model's candidate pairs (unobserved pairs of its training drugs and miRNAs) "
                  "scored lower (0-100)",
    "probability": "calibrated chance that a pair at this rank was a held-out positive when the configuration "
                   "was evaluated out of fold",
    "probability_low": "lower end of the probability's 95% interval, from the held-out counts around this rank",
    "probability_high": "upper end of the probability's 95% interval, from the held-out counts around this rank",
    "expected_precision": "share of held-out positives at this rank or better in that evaluation",
    "evidence": "known associations most similar to the pair, with the view and similarity that connect them",
}


def column_help(model: AMMGC) -> dict[str, str]:
    """``COLUMN_HELP`` with the probability's meaning as this model's calibration was made."""
    help_ = dict(COLUMN_HELP)
    c = model.calibration_
    if c is not None:
        held = "unseen publications" if c.protocol == "study" else "random held-out pairs (optimistic)"
        help_["probability"] = (f"calibrated chance that a pair at this rank was a held-out positive when the "
                                f"configuration was evaluated on {held}; never above expected_precision")
    return help_


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The JSON written beside a ranking's CSV: what the model is and what its columns mean."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def write_table(prediction: Prediction, card: ModelCard, path: str | os.PathLike[str]) -> None:
    """The ranking as CSV at ``path`` (``-``: standard output), and beside a file its sidecar JSON: the model,
    its caveats, the notes of this prediction and the meaning of each column."""
    from ammgc.io import atomic_write_json, is_stdout, write_text_output

    write_text_output(path, prediction.table.to_csv(index=False))
    if not is_stdout(path):
        atomic_write_json(sidecar_path(path), {
            "model": card.summary, "caveats": card.caveats, "notes": prediction.notes,
            "columns": {c: card.columns[c] for c in prediction.table.columns if c in card.columns}})


@dataclass(frozen=True)
class ModelCard:
    """What every output of a fitted model says about it: ``summary`` (``ammgc.models.modelfile.describe``),
    ``caveats`` (``model_caveats``), the meaning of each ranking column for it (``column_help``), the libraries
    whose versions differ from those that trained it, and its calibration (None: uncalibrated)."""

    summary: dict[str, Any]
    caveats: list[str]
    columns: dict[str, str]
    other_versions: list[str]
    calibration: Calibration | None

    @property
    def title(self) -> str:
        s = self.summary
        return (f"AMMGC trained on {s['associations']} associations of {s['drugs']} drugs x {s['mirnas']} miRNAs "
                f"({s['dataset']}), seed {s['seed']}")

    def report(self, path: str | os.PathLike[str] | None = None) -> list[str]:
        """The lines a command prints about the model (loaded from ``path``, where given): what it is, library
        versions that differ from its own, and its caveats as notes."""
        s = self.summary
        lines = [] if path is None else [f"model {path}: {s['drugs']} drugs x {s['mirnas']} miRNAs, "
                                         f"{s['associations']} associations ({s['source']}), seed {s['seed']}"]
        if path is not None and self.other_versions:
            lines.append("note: trained with other library versions: " + ", ".join(self.other_versions)
                         + "; known pairs keep their stored scores, features of new drugs/miRNAs may differ slightly")
        return lines + [c if c.startswith(("warning:", "caution:")) else f"note: {c}" for c in self.caveats]


def model_card(model: AMMGC) -> ModelCard:
    """The ``ModelCard`` of a fitted model."""
    from ammgc.models.modelfile import library_versions

    summary = {"dataset": model.dataset_.name, "source": model.dataset_.source, "seed": model.seed_,
               "drugs": model.n_drugs_, "mirnas": model.n_mirnas_, "associations": int(model.train_.sum()),
               "modals": [f"{m.name}: {'+'.join(m.drug_views)} x {'+'.join(m.mirna_views)}" for m in model.modals_],
               "ammgc": model.info_.get("versions", {}).get("ammgc", model.info_.get("ammgc"))}
    stored, here = model.info_.get("versions", {}), library_versions()
    other_versions = [f"{k} {stored[k]} (now {here[k]})" for k in sorted(stored) if k in here and stored[k] != here[k]]
    return ModelCard(summary, model_caveats(model), column_help(model), other_versions, model.calibration_)


def model_caveats(model: AMMGC) -> list[str]:
    """What a reader of anything this model outputs must know, in the words every output uses (``ammgc
    train``, ``predict``, ``explain``, the CSV's sidecar JSON, the HTML page): the views it was trained on and
    any left out, what its activity prior counts, and how (and whether) its probabilities were calibrated."""
    modals = "; ".join(f"{'+'.join(m.drug_views) or 'one-hot'} x {'+'.join(m.mirna_views) or 'one-hot'}"
                       for m in model.modals_)
    stand_in = " (the miRBase sequence view stands in for GO)" if "sequence" in model.mirna_views else ""
    lines = [f"trained on the views {modals}{stand_in}"]
    notes = [str(n) for n in model.info_.get("notes", [])]
    lines += [n for n in notes if not n.startswith("not calibrated")]
    counts = {"studies": "publications that first reported its training pairs", "pairs": "training pairs",
              "mixed": "training pairs and publications"}.get(str(model.prior_counts_), str(model.prior_counts_))
    if model.config.degree_prior or model.config.prior_in_training:
        lines.append(f"its activity prior counts {counts}")
    c = model.calibration_
    if c is None:
        lines.append(next((n for n in notes if n.startswith("not calibrated")),
                          "not calibrated (trained without calibration): only the score is given"))
    else:
        size = (f", {c.positives:,} held-out positives among {c.candidates:,} pairs" if c.positives else "")
        lines.append(f"probabilities calibrated ({c.method}) out of fold on {c.folds} {c.protocol}-split folds of "
                     f"its training data{size}")
        if c.caveat:
            lines.append(f"caution: {c.caveat}")
    return lines


@dataclass
class Prediction:
    """A ranking and what a reader needs beside it: ``notes`` (each a line, warnings starting with
    ``warning:``, cautions with ``caution:``) and the extended dataset and scores it was ranked from."""

    table: pd.DataFrame
    extended: Extended
    notes: list[str] = field(default_factory=list)


def explainer_for(model: AMMGC, dataset: Dataset | None = None, extended: Extended | None = None) -> Explainer:
    """An explainer over the model's training dataset with the views the model was trained with: ``dataset``
    (which must be the training data; default: the model's own where it was fitted here, else the benchmark)
    with those views computed where missing."""
    from ammgc.features import ensure_views

    if dataset is None:
        trained = model.dataset_
        if all(v in trained.views for v in (*model.drug_views, *model.mirna_views)):
            dataset = trained
        else:
            from ammgc.data import load_dataset

            dataset = load_dataset()
    dataset = ensure_views(dataset, [*model.drug_views, *model.mirna_views])
    with contextlib.suppress(DataError, DownloadError):  # else: evidence without the reports of its associations
        dataset = dataset.with_publications(fetch=False)
    return Explainer(model, dataset, extended)


def new_entity_report(model: AMMGC, extended: Extended, explainer: Explainer | None,
                      dataset: Dataset | None = None) -> tuple[Explainer | None, list[str]]:
    """Lines on each new entity (nearest known ones, warnings, the cold-start caution) and the explainer used
    (None when the training dataset, ``dataset`` or the one the model names, cannot give one)."""
    neighbours = None
    lines: list[str] = []
    try:
        explainer = explainer or explainer_for(model, dataset, extended)
        neighbours = nearest_neighbours(extended, explainer)
    except AmmgcError as exc:
        explainer = None
        lines.append(f"nearest known neighbours of new entities not shown ({exc}); give the training dataset")
    lines += new_entity_notes(extended, model, neighbours)
    lines += [NEW_DRUG_CAUTION] * bool(extended.new_drugs) + [NEW_MIRNA_CAUTION] * bool(extended.new_mirnas)
    return explainer, lines


def nearest_neighbours(extended: Extended, explainer: Explainer) -> dict[tuple[str, int], list[Evidence]]:
    """Nearest known drugs / miRNAs of each new one, from the training views and the new entities' rows."""
    out: dict[tuple[str, int], list[Evidence]] = {}
    for k, index in enumerate(extended.new_drugs):
        out[("drug", index)] = explainer.nearest("drug", {v: r[k] for v, r in extended.drug_rows.items()})
    for k, index in enumerate(extended.new_mirnas):
        out[("miRNA", index)] = explainer.nearest("mirna", {v: r[k] for v, r in extended.mirna_rows.items()})
    return out


def predict(model: AMMGC, *, drugs: Sequence[str] = (), mirnas: Sequence[str] = (),
            new_drugs: Sequence[NewDrug] = (), new_mirnas: Sequence[NewMirna] = (), top: int | None = 20,
            evidence: bool = False, dataset: Dataset | None = None) -> Prediction:
    """Rank the unobserved pairs of a fitted AMMGC (``top`` None: all), restricted to ``drugs`` / ``mirnas`` by
    name, or every partner of the new drugs and miRNAs. A calibrated model adds percentile, probability and
    expected precision; ``evidence`` adds the known associations most similar to each pair. ``dataset`` is the
    training data, checked against the model (needed for evidence when the model was loaded and is not the
    benchmark's)."""
    if dataset is not None:
        check_dataset(model, dataset)
    extended = extend(model, new_drugs, new_mirnas)
    notes = list(extended.notes)
    # built once (it computes the SMILES views): evidence needs it, new entities' neighbours use it
    explainer = explainer_for(model, dataset, extended) if evidence else None
    if new_drugs or new_mirnas:
        explainer, lines = new_entity_report(model, extended, explainer, dataset)
        notes += lines
    table = rank(extended.dataset, extended.scores, drugs=drugs, mirnas=mirnas, new_drugs=extended.new_drugs,
                 new_mirnas=extended.new_mirnas, top=top)
    if model.calibration_ is not None:
        from ammgc.evaluation.calibration import annotate

        # positions among the model's own candidate pairs: a new drug's do not depend on the others given
        table = annotate(table, model.predict_scores()[model.train_ == 0], model.calibration_)
    if evidence:
        if explainer is None:
            explainer = explainer_for(model, dataset, extended)
        table["evidence"] = evidence_column(explainer, table)
    return Prediction(table, extended, notes)
