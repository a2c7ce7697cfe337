"""A model trained on every known association, as it is kept and saved: it scores known and new drugs and miRNAs.

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
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.calibration import Calibration
from ammgc.models.ammgc import AMMGC
from ammgc.models.graph import row_normalize, stack_modal
from ammgc.models.layers import GCNEncoder
from ammgc.models.network import AMMGCNet
from ammgc.prediction.new_entities import NewDrug, NewMirna, check_new_names, sequence_note

#: the drug views a new drug can get, and the key of ``drug_views_from_smiles`` that gives each
SMILES_KEY = {"fingerprint": "fingerprint", "fingerprint_smiles": "fingerprint",
              "smiles_code": "smiles_code", "smiles_code_smiles": "smiles_code"}
#: file view -> its SMILES-derived twin (the ``--drug-features smiles`` substitution)
SMILES_TWIN = {"fingerprint": "fingerprint_smiles", "smiles_code": "smiles_code_smiles"}

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
                notes.extend(sequence_note(m, catalogue) for m in mirnas)
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
        check_new_names([d.name for d in new_drugs], list(self.drugs["name"]), "drug")
        check_new_names([m.name for m in new_mirnas], list(self.mirnas["name"]), "miRNA")
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
        drugs = pd.DataFrame({c: [cell_text(x) for x in dataset.drugs[c]] if c in dataset.drugs
                               else [""] * dataset.n_drugs for c in ("name", "smiles", "cid", "mesh")})
        mirnas = pd.DataFrame({c: [cell_text(x) for x in dataset.mirnas[c]]
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


def cell_text(value: object) -> str:
    """A table cell as text: missing (None, NaN) is empty."""
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
        smiles = [cell_text(s) for s in dataset.drugs["smiles"]]
        record["recipe"] = ("PubChem 881-bit substructure fingerprint of each SMILES (scikit-fingerprints), "
                            "in the benchmark's 920-column layout" if name == "fingerprint_smiles" else
                            "85-character label encoding of each SMILES (ammgc.features.drug.LABEL_TABLE)")
        record["input_sha256"] = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    elif name == "sequence":
        from ammgc.data.derived import shipped_mirbase_record
        from ammgc.features.mirna import SCORING, SIMILARITY_VERSION, load_catalogue

        record["recipe"] = (f"{SIMILARITY_VERSION}: normalised Smith-Waterman similarity to every human "
                            f"stem-loop, scoring {SCORING}")
        record["mirbase"] = shipped_mirbase_record(view)  # the benchmark's view ships: no miRBase needed
        if record["mirbase"] is None:
            catalogue = load_catalogue(mirbase)
            record["mirbase"] = {**catalogue.describe(), "directory": str(catalogue.directory),
                                 "columns_sha256": _columns_sha256(catalogue.columns, catalogue.column_sequences)}
        names = dataset.mirna_names
        seqs = [cell_text(s) for s in dataset.mirnas["sequence"]] if "sequence" in dataset.mirnas else []
        record["input_sha256"] = hashlib.sha256(json.dumps([names, seqs]).encode()).hexdigest()
    else:
        record["recipe"] = "read from the dataset's file"
    return record
