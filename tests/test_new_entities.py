"""New drugs and miRNAs: isolated nodes with their computed views, scored by the frozen model."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_DRUGS, fit_model, write_tiny_own_dataset

from ammgc.data import load_dataset
from ammgc.data.dataset import Dataset, FeatureView
from ammgc.data.source import located
from ammgc.errors import AmmgcError, DataError
from ammgc.features import drug_views_from_smiles, ensure_views
from ammgc.features.mirna import load_catalogue
from ammgc.models.ammgc import AMMGC, ModalSpec
from ammgc.models.graph import normalized_adjacency
from ammgc.models.layers import as_operator
from ammgc.prediction.new_entities import NewDrug, NewMirna, extend, extend_rows, new_drug_rows, new_mirna_rows
from ammgc.prediction.ranking import rank
from ammgc.prediction.training import cold_start_scores, prediction_model, subset

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
def model(tiny: Dataset) -> AMMGC:
    """Trained without miRBase: drug views from SMILES, the expression view for miRNAs."""
    return fit_model(tiny, NO_MIRBASE, seed=0)


def test_new_drug_without_associations_ranks_every_mirna(tiny: Dataset, model: AMMGC) -> None:
    assert model.drug_views == ["fingerprint_smiles", "smiles_code_smiles"]
    extended = extend(model, [ERLOTINIB])
    p, q = tiny.n_drugs, tiny.n_mirnas
    assert extended.scores.shape == (p + 1, q) and extended.new_drugs == [p]
    assert extended.dataset.associations[p].sum() == 0
    np.testing.assert_array_equal(extended.scores[:p], model.predict_scores())
    new = extended.scores[p]
    assert np.isfinite(new).all() and np.ptp(new) > 0
    table = rank(extended.dataset, extended.scores, new_drugs=extended.new_drugs)
    assert len(table) == q and set(table["drug"]) == {"erlotinib"} and set(table["drug_index"]) == {p}
    assert list(table["rank"]) == list(range(1, q + 1))
    assert table["score"].is_monotonic_decreasing
    np.testing.assert_array_equal(np.sort(table["score"].to_numpy()), np.sort(new))


def test_isolated_node_embedding_equals_extended_graph_computation(tiny: Dataset, model: AMMGC) -> None:
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
    for u, (modal, encoder) in enumerate(zip(model.modals_, model.encoders_, strict=True)):
        x = ammgc.modal_features(extended, ModalSpec(modal.name, modal.drug_views, modal.mirna_views))
        with torch.no_grad():
            full = encoder.eval()(torch.from_numpy(x), adjacency).numpy()
        training_rows = np.vstack([full[:p], full[p + 1:]])
        np.testing.assert_allclose(training_rows, model.embeddings_[u], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(full[p], new_drug_embeddings[u, 0], rtol=1e-5, atol=1e-6)


def test_new_mirna_from_sequence_ranks_every_drug(tiny_own_data: Path, mirbase_path: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMMGC_HOME", str(tmp_path / "home"))
    tiny = load_dataset(tiny_own_data)
    with located(mirbase=mirbase_path):
        fit_model(tiny, FAST, seed=0).save(tmp_path / "m.ammgc")
        model = AMMGC.load(tmp_path / "m.ammgc")
        assert model.mirna_views == ["expression", "sequence"]
        assert model.view_records_["sequence"]["mirbase"]["human_stem_loops"] == len(load_catalogue().columns)
        extended = extend(model, new_mirnas=[NewMirna("mir-30b-stem", MIR_30B_STEM_LOOP),
                                            NewMirna("mir-30b-mature", MIR_30B_MATURE)])
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
    model.view_records_["sequence"]["mirbase"]["columns_sha256"] = "0" * 64
    with located(mirbase=mirbase_path), pytest.raises(AmmgcError, match="differ from those the model was trained"):
        extend(model, new_mirnas=[NewMirna("x", MIR_30B_MATURE)])


def test_bad_new_entities_are_clear_errors(model: AMMGC) -> None:
    with pytest.raises(DataError, match="drug 'brokenib': invalid SMILES"):
        extend(model, [NewDrug("brokenib", "C1CC")])
    with pytest.raises(AmmgcError, match="already in the model as 'cisplatin'"):
        extend(model, [NewDrug("Cisplatin", TINY_DRUGS["cisplatin"])])
    with pytest.raises(AmmgcError, match="given twice"):
        extend(model, [ERLOTINIB, ERLOTINIB])
    with pytest.raises(DataError, match="characters other than"):
        extend(model, new_mirnas=[NewMirna("odd", "ACGUXX")])
    rows, notes = new_mirna_rows(model, [NewMirna("m", MIR_30B_MATURE)])
    np.testing.assert_array_equal(rows["expression"][0], model.mirna_means_["expression"])
    assert any("same features and the same scores" in n for n in notes)


def test_models_without_smiles_views_refuse_new_drugs(planted: Dataset) -> None:
    onehot = fit_model(planted, {**FAST, "node_features": "onehot"}, seed=0, drug_features="files")
    with pytest.raises(AmmgcError, match="one-hot"):
        extend(onehot, [ERLOTINIB])
    own = planted.with_views(FeatureView("morgan", "drug", planted.view("fingerprint").matrix, "own"))
    model = fit_model(own, {**FAST, "drug_views": ("morgan",)}, seed=0, drug_features="files")
    with pytest.raises(AmmgcError, match="cannot be computed from a SMILES"):
        extend(model, [ERLOTINIB])


def test_the_estimator_chooses_its_views_in_one_place(tiny: Dataset, planted: Dataset) -> None:
    chosen = AMMGC(mirna_views=("expression", "go")).choose_views(tiny)
    # no drug feature files in this own dataset: drug views come from SMILES; go is its stand-in, sequence
    assert chosen.drug == ("fingerprint_smiles", "smiles_code_smiles") and chosen.notes == ()
    assert chosen.mirna == ("expression", "sequence")
    assert AMMGC().choose_views(planted).drug == ("fingerprint", "smiles_code")
    assert AMMGC(drug_features="files").choose_views(planted).drug == ("fingerprint", "smiles_code")
    bare = AMMGC().choose_views(dataclasses.replace(tiny, views={}))
    assert bare.mirna == ("sequence",) and "'expression' is not in" in bare.notes[0]
    with pytest.raises(DataError, match="have no SMILES"):
        AMMGC(drug_features="smiles").prepare(planted)
    with pytest.raises(AmmgcError, match="drug_features='fingerprints'"):
        AMMGC(drug_features="fingerprints").check_params()


def test_cold_start_scores_match_training_without_the_held_out_drug(tiny: Dataset) -> None:
    dataset = ensure_views(tiny, ["fingerprint_smiles", "smiles_code_smiles"])
    held = 2
    scores = cold_start_scores(dataset, [held], split="drug", model=prediction_model(**NO_MIRBASE), seed=4)
    keep = [i for i in range(tiny.n_drugs) if i != held]
    model = fit_model(subset(dataset, keep, range(tiny.n_mirnas)), NO_MIRBASE, seed=4)
    name = tiny.drug_names[held]
    # predict's path, but with the dataset's SMILES code (as written) where predict encodes a canonical form
    rows = new_drug_rows(model, [NewDrug(f"new-{name}", TINY_DRUGS[name])])
    np.testing.assert_array_equal(rows["fingerprint_smiles"][0], dataset.view("fingerprint_smiles").matrix[held])
    rows["smiles_code_smiles"] = dataset.view("smiles_code_smiles").matrix[[held]]
    extended = extend_rows(model, pd.concat([model.dataset_.drugs, pd.DataFrame({"name": [f"new-{name}"]})],
                                            ignore_index=True), rows, model.dataset_.mirnas, {})
    np.testing.assert_allclose(scores[held], extended.scores[-1], rtol=1e-6)
    np.testing.assert_array_equal(scores[keep], model.predict_scores())
    mirna_scores = cold_start_scores(dataset, [0, 3], split="mirna", model=prediction_model(**NO_MIRBASE), seed=4)
    assert np.isfinite(mirna_scores).all() and mirna_scores[:, [0, 3]].std() > 0
    with pytest.raises(AmmgcError, match="'drug' or 'mirna'"):
        cold_start_scores(dataset, [0], split="pair", model=prediction_model(**NO_MIRBASE))


def test_degree_prior_gives_new_nodes_their_partners_term_only(tiny: Dataset, model: AMMGC) -> None:
    """A new drug has degree 0 in the training graph: the prior adds weight * log(1 + miRNA degree)."""
    import copy

    def with_prior(weight: float) -> AMMGC:
        changed = copy.copy(model)
        changed.network_ = copy.deepcopy(model.network_)
        changed.network_.decoder.weight = weight
        changed.config = dataclasses.replace(model.config, degree_prior=weight)
        return changed

    plain, prior = with_prior(0.0), with_prior(1.5)
    difference = extend(prior, [ERLOTINIB]).scores[-1] - extend(plain, [ERLOTINIB]).scores[-1]
    np.testing.assert_allclose(difference, 1.5 * np.log1p(tiny.associations.sum(axis=0)), rtol=1e-4, atol=1e-6)


def test_one_molecule_written_differently_gets_identical_scores(tiny: Dataset, model: AMMGC) -> None:
    osimertinib = ["CN1C=C(C2=CC=CC=C21)C3=NC(=NC=C3)NC4=C(C=C(C(=C4)NC(=O)C=C)N(C)CCN(C)C)OC",
                   "C=CC(=O)Nc1cc(Nc2nccc(-c3cn(C)c4ccccc34)n2)c(OC)cc1N(C)CCN(C)C"]
    aspirin = ["CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1OC(C)=O", "CC(=O)OC1=CC=CC=C1C(O)=O"]
    for forms in (osimertinib, aspirin):
        extended = extend(model, [NewDrug(f"form {k}", s) for k, s in enumerate(forms)])
        new = extended.scores[extended.new_drugs]
        assert (new == new[0]).all()
        for k, s in enumerate(forms):   # alone, each form scores the same again
            np.testing.assert_array_equal(extend(model, [NewDrug("alone", s)]).scores[tiny.n_drugs], new[k])
    # a new drug written as a training drug's molecule is that drug's features, said in a note
    cisplatin = extend(model, [NewDrug("platinol", "Cl[Pt]Cl.N.N")])
    assert any("platinol is the same molecule as the known drug cisplatin" in n for n in cisplatin.notes)


def test_a_new_drugs_ranks_and_percentiles_do_not_depend_on_the_others(tiny: Dataset, model: AMMGC,
                                                                       tmp_path: Path) -> None:
    """`ammgc predict --new-drug`: erlotinib's rows (rank, score, percentile, probability) are the same alone
    and beside lapatinib, in either order; each new drug is ranked on its own."""
    from typer.testing import CliRunner

    from ammgc.cli import app
    from ammgc.evaluation.calibration import fit_calibration

    rng = np.random.default_rng(0)
    folds = []
    for _ in range(5):
        labels = (rng.random(400) < 0.1).astype(np.int8)
        folds.append((rng.normal(size=400) + 3 * labels, labels))
    path = tmp_path / "calibrated.ammgc"
    calibrated = copy.copy(model)
    calibrated.calibration_ = fit_calibration(folds, protocol="study")
    calibrated.save(path)
    lapatinib = ["--new-drug", "lapatinib", "--smiles",
                 "CS(=O)(=O)CCNCC1=CC=C(O1)C2=CC3=C(C=C2)N=CN=C3NC4=CC(=C(C=C4)OCC5=CC(=CC=C5)F)Cl"]
    erlotinib = ["--new-drug", ERLOTINIB.name, "--smiles", ERLOTINIB.smiles]
    tables = []
    for k, drugs in enumerate((erlotinib, erlotinib + lapatinib, lapatinib + erlotinib)):
        out = tmp_path / f"{k}.csv"
        result = CliRunner().invoke(app, ["predict", "--model", str(path), "--data", str(tiny.source), *drugs,
                                          "--top", "4", "--out", str(out)])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out)
        assert "percentile" in table.columns
        assert all(list(g["rank"]) == [1, 2, 3, 4] for _, g in table.groupby("drug"))
        tables.append(table[table["drug"] == "erlotinib"].drop(columns="drug_index").reset_index(drop=True))
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])


def test_a_saved_models_new_drug_finds_its_neighbours_in_the_dataset_given(tmp_path: Path) -> None:
    """`predict --model M --data DIR --new-drug ...` without evidence: the nearest known drugs come from DIR,
    the training data given, also where the model's recorded data folder is gone."""
    from ammgc.prediction.predict import predict

    data = write_tiny_own_dataset(tmp_path / "data")
    fitted = fit_model(load_dataset(data), {"epochs_gcn": 3, "epochs_attention": 3, "hidden": (8, 8),
                                            "mirna_views": ("expression",)})
    fitted.save(tmp_path / "m.ammgc")
    moved = data.rename(tmp_path / "moved")
    result = predict(AMMGC.load(tmp_path / "m.ammgc"), new_drugs=[NewDrug("aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O")],
                     dataset=load_dataset(moved))
    assert not [n for n in result.notes if "not shown" in n], result.notes
