"""Train AMMGC once on every known association, keep it, and score known and new drugs and miRNAs.

A new drug (or miRNA) enters the graph as a node without edges, carrying the views it can get: the
SMILES-derived drug views; the ``sequence`` view of a miRNA sequence and, for miRNA views that cannot
be computed from a sequence (expression, GO), the mean row of the training miRNAs (the paper's rule
for missing features). Under Â = D^-1/2 (A + I) D^-1/2 an isolated node's row of Â is its self-loop
(weight 1) and no training node's degree changes, so running the frozen encoders on the extended
graph leaves every training embedding unchanged and gives the new node the encoder applied with the
identity as adjacency; ``TrainedModel.embed_new`` computes exactly that (a test checks it against
the extended-graph computation).

The attention coefficients g^u = W_u E^u + b_u have W_u sized to the training nodes (1 x (p+q)), so
they are fixed after training: new nodes are weighted by the coefficients computed from the
training nodes.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ammgc.calibration import Calibration
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, DataError
from ammgc.graph import row_normalize, stack_modal
from ammgc.models.ammgc import AMMGC
from ammgc.models.layers import GCNEncoder
from ammgc.models.network import AMMGCNet
from ammgc.ranking import rank_unobserved, resolve_names

#: the drug views a new drug can get, and the key of ``drug_views_from_smiles`` that gives each
SMILES_KEY = {"fingerprint": "fingerprint", "fingerprint_smiles": "fingerprint",
              "smiles_code": "smiles_code", "smiles_code_smiles": "smiles_code"}
#: file view -> its SMILES-derived twin (the ``--drug-features smiles`` substitution)
SMILES_TWIN = {"fingerprint": "fingerprint_smiles", "smiles_code": "smiles_code_smiles"}
DRUG_FEATURES = ("smiles", "files")
#: Train on the SMILES-derived drug views, so benchmark drugs and new drugs share one feature recipe. On
#: the benchmark (5-fold pair CV, seed 0, default configuration) this costs nothing: AUPR 0.2555 / AUC 0.9433
#: against 0.2552 / 0.9428 with the shipped files.
DEFAULT_DRUG_FEATURES = "smiles"


@dataclass(frozen=True)
class NewDrug:
    name: str
    smiles: str


@dataclass(frozen=True)
class NewMirna:
    name: str
    sequence: str


@dataclass(frozen=True)
class ModalRecord:
    """One trained modal: its views and the width of its stacked node features."""

    name: str
    drug_views: tuple[str, ...]
    mirna_views: tuple[str, ...]
    width: int


@dataclass
class Extended:
    """The training dataset extended with new drugs / miRNAs (rows and columns appended, no known
    association) and the score matrix over all of it."""

    dataset: Dataset
    scores: np.ndarray
    new_drugs: list[int]
    new_mirnas: list[int]
    notes: list[str]
    # the new entities' raw view rows and every node's fused embedding: what explanations read
    drug_rows: dict[str, np.ndarray] = field(default_factory=dict)
    mirna_rows: dict[str, np.ndarray] = field(default_factory=dict)
    drug_z: np.ndarray | None = None
    mirna_z: np.ndarray | None = None


@dataclass
class TrainedModel:
    """Everything prediction needs, without the training data's feature matrices.

    ``scores`` are the trained run's scores of every known drug x miRNA pair (kept, not recomputed,
    so a loaded model gives exactly the scores of the run that trained it).
    """

    config: AMMGC.Config
    seed: int
    modals: list[ModalRecord]
    network: AMMGCNet  # encoders, fusion, decoder with the activity prior, frozen training embeddings
    scores: np.ndarray  # (p, q) float64
    associations: np.ndarray  # (p, q) uint8
    drugs: pd.DataFrame
    mirnas: pd.DataFrame
    views: dict[str, dict[str, Any]]
    mirna_means: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)
    # probability and expected precision by rank, from an honest out-of-fold evaluation (None: not fitted)
    calibration: Calibration | None = None

    @property
    def n_drugs(self) -> int:
        return int(self.associations.shape[0])

    # --- the network's state, as arrays ---------------------------------------------------------

    @property
    def encoders(self) -> list[GCNEncoder]:
        return list(self.network.encoders)

    @property
    def embeddings(self) -> np.ndarray:
        """(U, p + q, d) float32: the training nodes' embeddings, frozen."""
        return self.network.embeddings.cpu().numpy()

    @property
    def coefficients(self) -> np.ndarray:
        """(U, d) float32: the attention coefficients from the training nodes."""
        return self.network.coefficients.cpu().numpy()

    @property
    def drug_prior(self) -> np.ndarray:
        """log(1 + activity) of each training drug: the prior's drug terms."""
        return self.network.decoder.drug_prior.cpu().numpy()

    @property
    def mirna_prior(self) -> np.ndarray:
        return self.network.decoder.mirna_prior.cpu().numpy()

    @property
    def n_mirnas(self) -> int:
        return int(self.associations.shape[1])

    @property
    def drug_views(self) -> list[str]:
        return list(dict.fromkeys(v for m in self.modals for v in m.drug_views))

    @property
    def mirna_views(self) -> list[str]:
        return list(dict.fromkeys(v for m in self.modals for v in m.mirna_views))

    def dataset(self) -> Dataset:
        """The training drugs, miRNAs and associations (no feature views) for ranking."""
        return Dataset(self.associations, self.drugs, self.mirnas, {}, source=self.info.get("source", ""),
                       name=self.info.get("dataset", "model"))

    def check_dataset(self, dataset: Dataset) -> None:
        """Refuse a dataset other than the one the model was trained on (names and associations)."""
        if dataset.drug_names != list(self.drugs["name"]) or dataset.mirna_names != list(self.mirnas["name"]):
            raise AmmgcError(f"the model was trained on other drugs/miRNAs ({self.n_drugs} x {self.n_mirnas}, "
                             f"{self.info.get('source', '?')}) than {dataset.source} has "
                             f"({dataset.n_drugs} x {dataset.n_mirnas}); leave out --data or retrain")
        if not np.array_equal(dataset.associations, self.associations):
            raise AmmgcError(f"the associations of {dataset.source} differ from those the model was trained on; "
                             f"leave out --data or retrain with `ammgc train`")

    # --- new nodes -------------------------------------------------------------------------------

    def embed_new(self, drug_rows: dict[str, np.ndarray], mirna_rows: dict[str, np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings (U, a, d) and (U, b, d) of new isolated drug / miRNA nodes from their raw view rows."""
        n_drugs = _count_rows(drug_rows, self.drug_views, "drug")
        n_mirnas = _count_rows(mirna_rows, self.mirna_views, "miRNA")
        drug_out, mirna_out = [], []
        for u, modal in enumerate(self.modals):
            d_width = sum(self.views[v]["width"] for v in modal.drug_views)
            m_width = sum(self.views[v]["width"] for v in modal.mirna_views)
            drug_x = stack_modal(_block(drug_rows, modal.drug_views, n_drugs), np.zeros((0, m_width)))
            mirna_x = stack_modal(np.zeros((0, d_width)), _block(mirna_rows, modal.mirna_views, n_mirnas))
            drug_out.append(self._isolated_embeddings(u, drug_x, modal.width))
            mirna_out.append(self._isolated_embeddings(u, mirna_x, modal.width))
        return np.stack(drug_out), np.stack(mirna_out)

    def _isolated_embeddings(self, modal: int, x: np.ndarray, width: int) -> np.ndarray:
        if x.shape[0] and x.shape[1] != width:
            raise AmmgcError(f"new node features are {x.shape[1]} wide, the model's modal expects {width}")
        features = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        return self.network.embed_isolated(modal, features).cpu().numpy()

    def fused(self, embeddings: np.ndarray) -> np.ndarray:
        """Z = ||_u E^u diag(g^u) for stacked embeddings (U, n, d), with the trained coefficients."""
        with torch.no_grad():
            return self.network.fuse(torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))).numpy()

    def recomputed_scores(self) -> np.ndarray:
        """Scores of the known pairs recomputed from the stored embeddings (checks the stored ones)."""
        with torch.no_grad():
            return self.network().cpu().numpy()

    def _pair_scores(self, drug_z: np.ndarray, mirna_z: np.ndarray) -> np.ndarray:
        """Scores as ``AMMGC.score`` computes them (the network's decoder): activities are the training
        graph's; a new drug or miRNA has activity 0, so its prior term is its partner's alone."""
        with torch.no_grad():
            return self.network.decoder(torch.from_numpy(drug_z), torch.from_numpy(mirna_z)).numpy()

    def new_drug_rows(self, drugs: Sequence[NewDrug]) -> dict[str, np.ndarray]:
        """Raw drug view rows of new drugs, computed from their SMILES like the training drugs' views."""
        from ammgc.features import drug_views_from_smiles

        self._check_features_for_new("drug")
        not_computable = [v for v in self.drug_views if v not in SMILES_KEY]
        if not_computable:
            raise AmmgcError(f"the model uses drug view(s) {not_computable}, which cannot be computed from a "
                             f"SMILES; train with --drug-features smiles to predict for new drugs")
        computed = drug_views_from_smiles([d.smiles for d in drugs], [d.name for d in drugs])
        return {v: computed[SMILES_KEY[v]].astype(np.float64) for v in self.drug_views}

    def new_mirna_rows(self, mirnas: Sequence[NewMirna], *, mirbase: Path | None = None
                       ) -> tuple[dict[str, np.ndarray], list[str]]:
        """Raw miRNA view rows of new miRNAs, and notes on how each view was filled."""
        from ammgc.features import mirna_sequence_row
        from ammgc.features.names import clean_sequence

        self._check_features_for_new("mirna")
        for m in mirnas:
            clean_sequence(m.sequence, what=f"miRNA {m.name!r}")
        rows: dict[str, np.ndarray] = {}
        notes: list[str] = []
        for view in self.mirna_views:
            if view == "sequence":
                catalogue = self._check_mirbase(mirbase)
                rows[view] = np.vstack([mirna_sequence_row(m.sequence, mirbase=mirbase) for m in mirnas])
                notes.extend(_sequence_note(m, catalogue) for m in mirnas)
            else:
                rows[view] = np.tile(self.mirna_means[view], (len(mirnas), 1))
                notes.append(f"miRNA view {view!r} cannot be computed from a sequence: new miRNAs get the mean "
                             f"row of the {self.n_mirnas} training miRNAs")
        if "sequence" not in self.mirna_views:
            notes.append("the model has no sequence-derived miRNA view: every new miRNA gets the same features "
                         "and the same scores")
        return rows, notes

    def _check_features_for_new(self, entity: str) -> None:
        if self.config.node_features == "onehot":
            raise AmmgcError(f"this model was trained with one-hot node features (node_features='onehot'); "
                             f"a new {entity} has no feature to enter the graph with")

    def _check_mirbase(self, mirbase: Path | None) -> Any:
        from ammgc.features.mirna import load_catalogue

        catalogue = load_catalogue(mirbase)
        want = self.views["sequence"].get("mirbase", {})
        have = _columns_sha256(catalogue.columns, catalogue.column_sequences)
        if want and want.get("columns_sha256") != have:
            raise AmmgcError(f"the miRBase files in {catalogue.directory} (release {catalogue.current.label}, "
                             f"{len(catalogue.columns)} human stem-loops) differ from those the model was trained "
                             f"with (release {want.get('current_release')}, {want.get('human_stem_loops')} "
                             f"stem-loops); pass --mirbase with the same files")
        return catalogue

    def extend(self, new_drugs: Sequence[NewDrug] = (), new_mirnas: Sequence[NewMirna] = (), *,
               mirbase: Path | None = None) -> Extended:
        """Append new drugs and miRNAs to the model's dataset and score every pair of the result."""
        _check_new_names([d.name for d in new_drugs], list(self.drugs["name"]), "drug")
        _check_new_names([m.name for m in new_mirnas], list(self.mirnas["name"]), "miRNA")
        notes: list[str] = []
        drug_rows = self.new_drug_rows(new_drugs) if new_drugs else {}
        mirna_rows: dict[str, np.ndarray] = {}
        if new_mirnas:
            mirna_rows, notes = self.new_mirna_rows(new_mirnas, mirbase=mirbase)
        if new_drugs:
            notes.append(f"new drugs: drug views {', '.join(self.drug_views)} computed from SMILES; attention "
                         f"coefficients as trained (from the training nodes)")
        drugs = _append(self.drugs, {"name": [d.name for d in new_drugs], "smiles": [d.smiles for d in new_drugs]})
        mirnas = _append(self.mirnas, {"name": [m.name for m in new_mirnas],
                                       "sequence": [m.sequence for m in new_mirnas]})
        return self.extend_rows(drugs, drug_rows, mirnas, mirna_rows, notes)

    def extend_rows(self, drugs: pd.DataFrame, drug_rows: dict[str, np.ndarray], mirnas: pd.DataFrame,
                    mirna_rows: dict[str, np.ndarray], notes: Sequence[str] = ()) -> Extended:
        """``extend`` from the new entities' view rows: ``drugs`` / ``mirnas`` are the model's tables with
        the new entities appended, ``drug_rows`` / ``mirna_rows`` their rows of each of the model's views."""
        drug_z, mirna_z = self.extended_embeddings(drug_rows, mirna_rows)
        scores = self._pair_scores(drug_z, mirna_z)
        p, q = self.n_drugs, self.n_mirnas
        scores[:p, :q] = self.scores
        associations = np.zeros(scores.shape, dtype=np.uint8)
        associations[:p, :q] = self.associations
        dataset = Dataset(associations, drugs, mirnas, {}, source=self.info.get("source", ""),
                          name=self.info.get("dataset", "model"))
        return Extended(dataset, scores, list(range(p, len(drugs))), list(range(q, len(mirnas))), list(notes),
                        drug_rows, mirna_rows, drug_z, mirna_z)

    def extended_embeddings(self, drug_rows: dict[str, np.ndarray], mirna_rows: dict[str, np.ndarray]
                            ) -> tuple[np.ndarray, np.ndarray]:
        """Fused embeddings of the p + a drugs and q + b miRNAs: training nodes as trained, new ones isolated."""
        p = self.n_drugs
        new_drug_e, new_mirna_e = self.embed_new(drug_rows, mirna_rows)
        z = self.fused(self.embeddings)
        drug_z = np.vstack([z[:p], self.fused(new_drug_e)]) if new_drug_e.shape[1] else z[:p]
        mirna_z = np.vstack([z[p:], self.fused(new_mirna_e)]) if new_mirna_e.shape[1] else z[p:]
        return drug_z, mirna_z

    def extended_scores(self, drug_rows: dict[str, np.ndarray], mirna_rows: dict[str, np.ndarray]
                        ) -> np.ndarray:
        """(p + a) x (q + b) scores: known pairs as trained, every pair with a new node computed."""
        scores = self._pair_scores(*self.extended_embeddings(drug_rows, mirna_rows))
        scores[:self.n_drugs, :self.n_mirnas] = self.scores
        return scores

    # --- construction ----------------------------------------------------------------------------

    @classmethod
    def from_fitted(cls, model: AMMGC, dataset: Dataset, *, seed: int, mirbase: Path | None = None,
                    info: dict[str, Any] | None = None) -> TrainedModel:
        """Collect a fitted AMMGC and the (view-complete) dataset it was fitted on."""
        specs = model.modal_specs(dataset)
        modals = [ModalRecord(s.name, tuple(s.drug_views), tuple(s.mirna_views), int(e.layers[0].weight.shape[0]))
                  for s, e in zip(specs, model.encoders_, strict=True)]
        used = list(dict.fromkeys(v for m in modals for v in (*m.drug_views, *m.mirna_views)))
        views = {v: view_record(dataset, v, mirbase=mirbase) for v in used}
        means = {v: dataset.view(v).matrix.astype(np.float64).mean(axis=0)
                 for v in used if dataset.view(v).entity == "mirna" and v != "sequence"}
        drugs = pd.DataFrame({c: [_text(x) for x in dataset.drugs[c]] if c in dataset.drugs else [""] * dataset.n_drugs
                              for c in ("name", "smiles", "cid", "mesh")})
        mirnas = pd.DataFrame({c: [_text(x) for x in dataset.mirnas[c]]
                               for c in ("name", "sequence") if c in dataset.mirnas})
        # prediction runs on the CPU, wherever the model was trained
        return cls(config=model.config, seed=seed, modals=modals, network=copy.deepcopy(model.network_).cpu(),
                   scores=model.score(), associations=np.asarray(dataset.associations, dtype=np.uint8),
                   drugs=drugs, mirnas=mirnas, views=views, mirna_means=means,
                   info={"dataset": dataset.name, "prior_counts": model.prior_counts_, "source": str(dataset.source),
                         "associations": dataset.n_associations, **(info or {})})


def _append(table: pd.DataFrame, rows: dict[str, list[str]]) -> pd.DataFrame:
    """``table`` with new rows; columns the rows do not give are empty strings."""
    n = len(rows["name"])
    columns = list(dict.fromkeys([*table.columns, *rows]))
    new = pd.DataFrame({c: rows.get(c, [""] * n) for c in columns})
    old = pd.DataFrame({c: list(table[c]) if c in table else [""] * len(table) for c in columns})
    return pd.concat([old, new], ignore_index=True)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _count_rows(rows: dict[str, np.ndarray], views: list[str], what: str) -> int:
    if not rows:
        return 0
    missing = [v for v in views if v not in rows]
    if missing:
        raise AmmgcError(f"new {what} rows lack view(s) {missing}")
    counts = {int(rows[v].shape[0]) for v in views}
    if len(counts) != 1:
        raise AmmgcError(f"new {what} views have different numbers of rows: {sorted(counts)}")
    return counts.pop()


def _block(rows: dict[str, np.ndarray], views: Sequence[str], n: int) -> np.ndarray:
    """Row-normalised views side by side, as ``AMMGC.modal_features`` builds a modal's block."""
    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return np.hstack([row_normalize(rows[v]) for v in views])


def _check_new_names(new: list[str], known: list[str], what: str) -> None:
    known_keys = {k.strip().lower(): k for k in known}
    seen: set[str] = set()
    for name in new:
        key = name.strip().lower()
        if not key:
            raise AmmgcError(f"a new {what} needs a name")
        if key in known_keys:
            raise AmmgcError(f"new {what} {name!r} is already in the model as {known_keys[key]!r}; "
                             f"use --{'drug' if what == 'drug' else 'mirna'} {known_keys[key]!r} to rank it")
        if key in seen:
            raise AmmgcError(f"new {what} {name!r} is given twice")
        seen.add(key)


def _sequence_note(mirna: NewMirna, catalogue: Any) -> str:
    """Say whether a new miRNA's sequence was read as mature (inside stem-loops) or aligned as given."""
    from ammgc.features.names import clean_sequence

    seq = clean_sequence(mirna.sequence, what=f"miRNA {mirna.name!r}")
    hosts = [c for c, s in zip(catalogue.columns, catalogue.column_sequences, strict=True)
             if seq in s and len(s) > len(seq)]
    if hosts:
        shown = ", ".join(hosts[:4]) + (", ..." if len(hosts) > 4 else "")
        return (f"{mirna.name}: {len(seq)}-nt sequence found inside {len(hosts)} human stem-loop(s) ({shown}); "
                f"read as a mature miRNA: its sequence row is the mean of theirs")
    return f"{mirna.name}: {len(seq)}-nt sequence read as a stem-loop and aligned as given"


# --- view provenance --------------------------------------------------------------------------------


def _sha256_array(matrix: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, dtype=np.float64).tobytes()).hexdigest()


def _columns_sha256(columns: Sequence[str], sequences: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps([list(columns), list(sequences)]).encode()).hexdigest()


def view_record(dataset: Dataset, name: str, *, mirbase: Path | None = None) -> dict[str, Any]:
    """How one view was built: source, input hashes, width and a hash of the matrix used."""
    view = dataset.view(name)
    record: dict[str, Any] = {**view.describe(), "width": view.shape[1],
                              "matrix_sha256": _sha256_array(view.matrix)}
    if name in SMILES_TWIN.values():
        smiles = [_text(s) for s in dataset.drugs["smiles"]]
        record["recipe"] = ("PubChem 881-bit substructure fingerprint of each SMILES (scikit-fingerprints), "
                            "in the benchmark's 920-column layout" if name == "fingerprint_smiles" else
                            "85-character label encoding of each SMILES (ammgc.features.drug.LABEL_TABLE)")
        record["input_sha256"] = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    elif name == "sequence":
        from ammgc.features.mirna import SCORING, SIMILARITY_VERSION, load_catalogue

        catalogue = load_catalogue(mirbase)
        record["recipe"] = (f"{SIMILARITY_VERSION}: normalised Smith-Waterman similarity to every human "
                            f"stem-loop, scoring {SCORING}")
        record["mirbase"] = {**catalogue.describe(), "directory": str(catalogue.directory),
                             "columns_sha256": _columns_sha256(catalogue.columns, catalogue.column_sequences)}
        names = dataset.mirna_names
        seqs = [_text(s) for s in dataset.mirnas["sequence"]] if "sequence" in dataset.mirnas else []
        record["input_sha256"] = hashlib.sha256(json.dumps([names, seqs]).encode()).hexdigest()
    else:
        record["recipe"] = "read from the dataset's file"
    return record


# --- training ---------------------------------------------------------------------------------------


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
            smiles = [_text(s) for s in dataset.drugs["smiles"]] if "smiles" in dataset.drugs else []
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
    from ammgc.experiments.cv import attach_publications
    from ammgc.features import ensure_views

    cfg, notes = training_config(dataset, config, drug_features=drug_features)
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
    split (``ammgc.calibration``), which gives the model its probability and expected-precision maps.
    """
    import importlib.metadata

    cfg, dataset, notes = prepare_training(dataset, config, mirbase=mirbase, drug_features=drug_features)
    model = AMMGC(cfg)
    calibration = None
    if calibrate:
        from ammgc.calibration import fit_calibration, out_of_fold

        try:
            oof, protocol = out_of_fold(dataset, lambda train, fold_seed: AMMGC(cfg).fit(train, dataset,
                                                                                          seed=fold_seed).score(),
                                        seed=seed, progress=progress)
            calibration = fit_calibration(oof, protocol=protocol)
        except AmmgcError as exc:
            # too small to evaluate honestly (too few publications or associations for 5 folds): the model is
            # still trained, and says that its scores are uncalibrated
            notes.append(f"not calibrated: {exc}")
    start = time.perf_counter()
    model.fit(dataset.associations, dataset, seed=seed)
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


def pair_up(names: Sequence[str], values: Sequence[str], *, name_option: str,
            value_option: str) -> list[tuple[str, str]]:
    """Pair repeated ``--new-drug NAME`` with ``--smiles S`` (or miRNA / sequence) in the order given."""
    if len(names) != len(values):
        raise AmmgcError(f"{len(names)} {name_option} but {len(values)} {value_option}: give one "
                         f"{value_option} for each {name_option}, in the same order")
    return list(zip(names, values, strict=True))


def new_drugs(pairs: Iterable[tuple[str, str]] = (), file: Path | None = None) -> list[NewDrug]:
    """New drugs from name/SMILES pairs and a CSV with columns name, smiles; every SMILES is checked."""
    from ammgc.features.drug import parse_smiles

    out = [NewDrug(n.strip(), s.strip()) for n, s in pairs]
    for drug in out:
        parse_smiles(drug.smiles, drug.name)
    if file is not None:
        for name, smiles, line in _read_pairs(file, "smiles", "drug"):
            try:
                parse_smiles(smiles, name)
            except DataError as exc:
                raise DataError(exc.problem, file=file, row=line) from None
            out.append(NewDrug(name, smiles))
    return out


def new_mirnas(pairs: Iterable[tuple[str, str]] = (), file: Path | None = None) -> list[NewMirna]:
    """New miRNAs from name/sequence pairs and a CSV with columns name, sequence; sequences are checked."""
    from ammgc.features.names import clean_sequence

    out = [NewMirna(n.strip(), s.strip()) for n, s in pairs]
    for mirna in out:
        clean_sequence(mirna.sequence, what=f"miRNA {mirna.name!r}")
    if file is not None:
        for name, sequence, line in _read_pairs(file, "sequence", "miRNA"):
            try:
                clean_sequence(sequence, what=f"miRNA {name!r}")
            except DataError as exc:
                raise DataError(exc.problem, file=file, row=line) from None
            out.append(NewMirna(name, sequence))
    return out


def _read_pairs(path: Path, column: str, what: str) -> list[tuple[str, str, int]]:
    from ammgc.data.validation import read_table

    if not Path(path).is_file():
        raise DataError("no such file", file=path)
    table = read_table(path)
    name_col, value_col = table.column("name"), table.column(column)
    if name_col is None or value_col is None:
        raise DataError(f"a new-{what} table needs columns name,{column}; the header is "
                        f"{table.delimiter.join(table.header)!r}", file=path, row=1)
    if not table.rows:
        raise DataError(f"lists no {what}s", file=path)
    out = []
    for row, line in zip(table.rows, table.line_numbers, strict=True):
        if not row[name_col]:
            raise DataError(f"empty {what} name", file=path, row=line)
        out.append((row[name_col], row[value_col], line))
    return out


# --- ranking ----------------------------------------------------------------------------------------


def rank(dataset: Dataset, scores: np.ndarray, *, drugs: Sequence[str] = (), mirnas: Sequence[str] = (),
         new_drugs: Sequence[int] = (), new_mirnas: Sequence[int] = (), top: int | None = None) -> pd.DataFrame:
    """Unobserved pairs by score. ``drugs`` / ``mirnas`` (names) restrict the ranking; with new drugs or
    miRNAs, only pairs involving one of them are ranked."""
    drug_idx = resolve_names(drugs, dataset.drug_names, what="drug") if drugs else None
    mirna_idx = resolve_names(mirnas, dataset.mirna_names, what="miRNA") if mirnas else None
    if not new_drugs and not new_mirnas:
        return rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx, top=top)
    table = rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx)
    keep = table["drug_index"].isin(list(new_drugs)) | table["mirna_index"].isin(list(new_mirnas))
    table = table[keep.to_numpy()]
    if top is not None:
        table = table.iloc[:top]
    table = table.reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


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
    every other miRNA view. ``dataset`` must already hold the views the configuration uses
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
