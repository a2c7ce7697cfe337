"""New drugs and miRNAs: isolated nodes with their computed views, scored by the frozen model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_DRUGS, write_tiny_own_dataset

from ammgc.data import load_dataset
from ammgc.data.dataset import Dataset, FeatureView
from ammgc.errors import AmmgcError, DataError
from ammgc.features import drug_views_from_smiles, ensure_views
from ammgc.features.mirna import load_catalogue
from ammgc.models.ammgc import AMMGC, ModalSpec
from ammgc.models.graph import normalized_adjacency
from ammgc.models.layers import as_operator
from ammgc.models.trained import TrainedModel
from ammgc.prediction.new_entities import NewDrug, NewMirna
from ammgc.prediction.training import cold_start_scores, rank, subset, train_model, training_config

FAST = {"epochs_gcn": 20, "epochs_attention": 20, "hidden": (16, 16)}
NO_MIRBASE = {**FAST, "mirna_views": ("expression",)}
ERLOTINIB = NewDrug("erlotinib", "COCCOC1=C(C=C2C(=C1)C(=NC=N2)NC3=CC=CC(=C3)C#C)OCCOC")
MIR_30B_STEM_LOOP = ("ACCAAGUUUCAGUUCAUGUAAACAUCCUACACUCAGCUGUAAUACAUGGAUUGGCUGGGAGGUGGAUGUUUACUUCAGCUGA"
                     "CUUGGA")
MIR_30B_MATURE = "UGUAAACAUCCUACACUCAGCU"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load_dataset(write_tiny_own_dataset(tmp_path_factory.mktemp("own") / "tiny"))


@pytest.fixture(scope="module")
def model(tiny: Dataset) -> TrainedModel:
    """Trained without miRBase: drug views from SMILES, the expression view for miRNAs."""
    return train_model(tiny, NO_MIRBASE, seed=0)


def test_new_drug_without_associations_ranks_every_mirna(tiny: Dataset, model: TrainedModel) -> None:
    assert model.drug_views == ["fingerprint_smiles", "smiles_code_smiles"]
    extended = model.extend([ERLOTINIB])
    p, q = tiny.n_drugs, tiny.n_mirnas
    assert extended.scores.shape == (p + 1, q) and extended.new_drugs == [p]
    assert extended.dataset.associations[p].sum() == 0
    np.testing.assert_array_equal(extended.scores[:p], model.scores)
    new = extended.scores[p]
    assert np.isfinite(new).all() and np.ptp(new) > 0
    table = rank(extended.dataset, extended.scores, new_drugs=extended.new_drugs)
    assert len(table) == q and set(table["drug"]) == {"erlotinib"} and set(table["drug_index"]) == {p}
    assert list(table["rank"]) == list(range(1, q + 1))
    assert table["score"].is_monotonic_decreasing
    np.testing.assert_array_equal(np.sort(table["score"].to_numpy()), np.sort(new))


def test_isolated_node_embedding_equals_extended_graph_computation(tiny: Dataset, model: TrainedModel) -> None:
    """Re-running each frozen encoder on the training graph plus the new isolated node changes no training
    embedding, and gives the new node what ``embed_new`` computes."""
    views = ensure_views(tiny, ["fingerprint_smiles", "smiles_code_smiles"])
    computed = drug_views_from_smiles([ERLOTINIB.smiles], [ERLOTINIB.name])
    rows = {"fingerprint_smiles": computed["fingerprint"], "smiles_code_smiles": computed["smiles_code"]}
    p = tiny.n_drugs
    extended = Dataset(np.vstack([tiny.associations, np.zeros((1, tiny.n_mirnas), np.uint8)]),
                       pd.concat([tiny.drugs, pd.DataFrame({"name": ["erlotinib"]})], ignore_index=True).fillna(""),
                       tiny.mirnas,
                       {name: FeatureView(name, v.entity, np.vstack([v.matrix, rows[name]]) if v.entity == "drug"
                                          else v.matrix, "test") for name, v in views.views.items()})
    adjacency = as_operator(torch.from_numpy(normalized_adjacency(extended.associations)))
    new_drug_embeddings, _ = model.embed_new(rows, {})
    ammgc = AMMGC(model.config)
    for u, (modal, encoder) in enumerate(zip(model.modals, model.encoders, strict=True)):
        x = ammgc.modal_features(extended, ModalSpec(modal.name, modal.drug_views, modal.mirna_views))
        with torch.no_grad():
            full = encoder.eval()(torch.from_numpy(x), adjacency).numpy()
        training_rows = np.vstack([full[:p], full[p + 1:]])
        np.testing.assert_allclose(training_rows, model.embeddings[u], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(full[p], new_drug_embeddings[u, 0], rtol=1e-5, atol=1e-6)


def test_new_mirna_from_sequence_ranks_every_drug(tiny_own_data: Path, mirbase_path: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    tiny = load_dataset(tiny_own_data)
    model = train_model(tiny, FAST, seed=0, mirbase=mirbase_path)
    assert model.mirna_views == ["expression", "sequence"]
    assert model.views["sequence"]["mirbase"]["human_stem_loops"] == len(load_catalogue(mirbase_path).columns)
    extended = model.extend(new_mirnas=[NewMirna("mir-30b-stem", MIR_30B_STEM_LOOP),
                                        NewMirna("mir-30b-mature", MIR_30B_MATURE)], mirbase=mirbase_path)
    q = tiny.n_mirnas
    assert extended.new_mirnas == [q, q + 1] and extended.scores.shape == (tiny.n_drugs, q + 2)
    assert any("mir-30b-mature: 22-nt sequence found inside" in n and "mature" in n for n in extended.notes)
    assert any("mir-30b-stem: 88-nt sequence read as a stem-loop" in n for n in extended.notes)
    assert any("'expression' cannot be computed from a sequence" in n for n in extended.notes)
    table = rank(extended.dataset, extended.scores, new_mirnas=extended.new_mirnas)
    assert len(table) == 2 * tiny.n_drugs and set(table["mirna"]) == {"mir-30b-stem", "mir-30b-mature"}
    # both sequences of one miRNA land near each other, and differ from the mean-only fallback
    stem, mature = extended.scores[:, q], extended.scores[:, q + 1]
    assert np.corrcoef(stem, mature)[0, 1] > 0.5
    model.views["sequence"]["mirbase"]["columns_sha256"] = "0" * 64
    with pytest.raises(AmmgcError, match="differ from those the model was trained with"):
        model.extend(new_mirnas=[NewMirna("x", MIR_30B_MATURE)], mirbase=mirbase_path)


def test_bad_new_entities_are_clear_errors(model: TrainedModel) -> None:
    with pytest.raises(DataError, match="drug 'brokenib': invalid SMILES"):
        model.extend([NewDrug("brokenib", "C1CC")])
    with pytest.raises(AmmgcError, match="already in the model as 'cisplatin'"):
        model.extend([NewDrug("Cisplatin", TINY_DRUGS["cisplatin"])])
    with pytest.raises(AmmgcError, match="given twice"):
        model.extend([ERLOTINIB, ERLOTINIB])
    with pytest.raises(DataError, match="characters other than"):
        model.extend(new_mirnas=[NewMirna("odd", "ACGUXX")])
    rows, notes = model.new_mirna_rows([NewMirna("m", MIR_30B_MATURE)])
    np.testing.assert_array_equal(rows["expression"][0], model.mirna_means["expression"])
    assert any("same features and the same scores" in n for n in notes)


def test_models_without_smiles_views_refuse_new_drugs(planted: Dataset) -> None:
    onehot = train_model(planted, {**FAST, "node_features": "onehot"}, seed=0, drug_features="files")
    with pytest.raises(AmmgcError, match="one-hot"):
        onehot.extend([ERLOTINIB])
    own = planted.with_views(FeatureView("morgan", "drug", planted.view("fingerprint").matrix, "own"))
    model = train_model(own, {**FAST, "drug_views": ("morgan",)}, seed=0, drug_features="files")
    with pytest.raises(AmmgcError, match="cannot be computed from a SMILES"):
        model.extend([ERLOTINIB])


def test_training_config_views(tiny: Dataset, planted: Dataset) -> None:
    config, notes = training_config(tiny, {"mirna_views": ("expression", "go")})
    assert config.drug_views == ("fingerprint_smiles", "smiles_code_smiles") and notes == []
    files, _ = training_config(planted, {}, drug_features="files")
    assert files.drug_views == ("fingerprint", "smiles_code")
    config, notes = training_config(dataclasses.replace(tiny, views={}), {})
    assert config.mirna_views == ("go",) and "'expression' is not in" in notes[0]
    with pytest.raises(DataError, match="have no SMILES"):
        training_config(planted, {})
    with pytest.raises(AmmgcError, match="--drug-features"):
        training_config(tiny, {}, drug_features="fingerprints")


def test_cold_start_scores_match_training_without_the_held_out_drug(tiny: Dataset) -> None:
    dataset = ensure_views(tiny, ["fingerprint_smiles", "smiles_code_smiles"])
    held = 2
    scores = cold_start_scores(dataset, [held], split="drug", config=NO_MIRBASE, seed=4)
    keep = [i for i in range(tiny.n_drugs) if i != held]
    model = train_model(subset(dataset, keep, range(tiny.n_mirnas)), NO_MIRBASE, seed=4)
    name = tiny.drug_names[held]
    extended = model.extend([NewDrug(f"new-{name}", TINY_DRUGS[name])])
    np.testing.assert_allclose(scores[held], extended.scores[-1], rtol=1e-6)
    np.testing.assert_array_equal(scores[keep], model.scores)
    mirna_scores = cold_start_scores(dataset, [0, 3], split="mirna", config=NO_MIRBASE, seed=4)
    assert np.isfinite(mirna_scores).all() and mirna_scores[:, [0, 3]].std() > 0
    with pytest.raises(AmmgcError, match="'drug' or 'mirna'"):
        cold_start_scores(dataset, [0], split="pair", config=NO_MIRBASE)


def test_degree_prior_gives_new_nodes_their_partners_term_only(tiny: Dataset, model: TrainedModel) -> None:
    """A new drug has degree 0 in the training graph: the prior adds weight * log(1 + miRNA degree)."""
    import copy

    def with_prior(weight: float) -> TrainedModel:
        network = copy.deepcopy(model.network)
        network.decoder.weight = weight
        return dataclasses.replace(model, network=network,
                                   config=dataclasses.replace(model.config, degree_prior=weight))

    plain, prior = with_prior(0.0), with_prior(1.5)
    difference = prior.extend([ERLOTINIB]).scores[-1] - plain.extend([ERLOTINIB]).scores[-1]
    np.testing.assert_allclose(difference, 1.5 * np.log1p(tiny.associations.sum(axis=0)), rtol=1e-4, atol=1e-6)
