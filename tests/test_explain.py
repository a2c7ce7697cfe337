"""`ammgc explain`: the score split into prior and embeddings, and evidence on a planted graph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_model, make_planted_dataset
from typer.testing import CliRunner

from ammgc.data.dataset import Dataset
from ammgc.models.ammgc import AMMGC
from ammgc.prediction.explain import Explainer, evidence_column, explanation_text
from ammgc.prediction.new_entities import extend, extend_rows

FAST = {"epochs_gcn": 20, "epochs_attention": 20, "hidden": (16, 16)}
GROUPS = 3


@pytest.fixture(scope="module")
def noisy() -> Dataset:
    """The planted graph plus two associations per drug with miRNAs of other groups: evidence must still
    come from the pair's own group, which the features encode."""
    dataset = make_planted_dataset(n_groups=GROUPS)
    rng = np.random.default_rng(5)
    a = dataset.associations.copy()
    for d in range(dataset.n_drugs):
        others = [m for m in range(dataset.n_mirnas) if m % GROUPS != d % GROUPS]
        a[d, rng.choice(others, size=2, replace=False)] = 1
    return replace(dataset, associations=a)


@pytest.fixture(scope="module")
def model(noisy: Dataset) -> AMMGC:
    return fit_model(noisy, FAST, seed=0, drug_features="files")


def test_score_is_prior_plus_embeddings(noisy: Dataset, model: AMMGC) -> None:
    explainer = Explainer(model, noisy)
    for d, m in [(0, 0), (1, 5), (7, 2), (23, 39)]:
        e = explainer.explain(d, m)
        assert e.score == pytest.approx(e.prior_term + e.embedding_term, rel=1e-4, abs=1e-4)
        degrees = noisy.associations.sum(axis=1)[d], noisy.associations.sum(axis=0)[m]
        assert (e.drug_activity, e.mirna_activity) == pytest.approx(degrees)   # no publications: pairs
        assert e.prior_term == pytest.approx(model.config.degree_prior * np.log1p(degrees).sum())
        assert 0.0 <= e.prior_share <= 1.0 and e.known == bool(noisy.associations[d, m])


def test_evidence_comes_from_the_pairs_own_group(noisy: Dataset, model: AMMGC) -> None:
    explainer = Explainer(model, noisy)
    checked = 0
    for d in range(noisy.n_drugs):
        for m in range(noisy.n_mirnas):
            if m % GROUPS != d % GROUPS or noisy.associations[d, m]:
                continue
            evidence = explainer.evidence(d, m, top=3)
            mirnas = [int(x.name.split("-")[-1]) for x in evidence if x.side == "mirna"]
            drugs = [int(x.name.removeprefix("drug")) for x in evidence if x.side == "drug"]
            assert mirnas and drugs
            # the drug is linked to 2 miRNAs of other groups, yet the most similar known partners are its own
            assert all(j % GROUPS == m % GROUPS for j in mirnas), (d, m, evidence)
            assert all(i % GROUPS == d % GROUPS for i in drugs), (d, m, evidence)
            assert all(x.view in model.mirna_views + model.drug_views for x in evidence)
            checked += 1
    assert checked > 20


def test_mean_rows_are_never_evidence(noisy: Dataset, model: AMMGC) -> None:
    view = noisy.view("expression")
    matrix = view.matrix.copy()
    imputed = [3, 6]
    matrix[imputed] = np.delete(matrix, imputed, axis=0).mean(axis=0)
    dataset = noisy.with_views(replace(view, matrix=matrix))
    explainer = Explainer(model, dataset)
    for d in range(noisy.n_drugs):
        for x in explainer.evidence(d, 0, top=40):
            if x.side == "mirna" and x.view == "expression":
                assert x.name not in {noisy.mirna_names[i] for i in imputed}


def test_cli_explain_and_predict_evidence(noisy: Dataset, model: AMMGC, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import ammgc.prediction.predict as predict_module
    from ammgc.cli import app

    path = tmp_path / "m.ammgc"
    model.save(path)
    monkeypatch.setattr(predict_module, "explainer_for",
                        lambda model, dataset=None, extended=None: Explainer(model, noisy, extended))
    result = CliRunner().invoke(app, ["explain", "--model", str(path), "--drug", "drug0", "--mirna", "hsa-mir-3"])
    assert result.exit_code == 0, result.output
    assert "activity prior" in result.output and "miRNAs already linked to drug0" in result.output
    assert result.stdout.strip() == explanation_text(Explainer(model, noisy).explain(0, 3))
    out = tmp_path / "ranking.csv"
    result = CliRunner().invoke(app, ["predict", "--model", str(path), "--top", "5", "--evidence", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["evidence"].str.len().gt(0).all()
    assert table["evidence"].tolist() == evidence_column(Explainer(model, noisy), table)


def test_sequence_and_smiles_warnings() -> None:
    from ammgc.prediction.explain import sequence_warnings, smiles_warnings

    assert any("low-complexity" in w for w in sequence_warnings("A" * 22))
    assert any("low-complexity" in w for w in sequence_warnings("AUAUAUAUAUAUAUAUAUAUAU"))
    assert any("implausible length" in w for w in sequence_warnings("ACGUACG"))
    assert sequence_warnings("UAGCUUAUCAGACUGAUGUUGA") == []          # hsa-miR-21-5p
    assert any("salt or mixture" in w for w in smiles_warnings("CC(=O)[O-].[Na+]"))
    assert any("small fragment" in w for w in smiles_warnings("CCO"))
    assert smiles_warnings("CC(=O)OC1=CC=CC=C1C(=O)O") == []           # aspirin
    assert smiles_warnings("not a smiles") == ["SMILES does not parse"]


def test_new_entities_are_reported_against_popularity(tiny_own_data: Path) -> None:
    from ammgc.data import load_dataset
    from ammgc.prediction.explain import new_entity_notes
    from ammgc.prediction.new_entities import NewDrug, NewMirna

    model = fit_model(load_dataset(tiny_own_data), {**FAST, "mirna_views": ("expression",)}, seed=0)
    extended = extend(model, [NewDrug("aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O")],
                            [NewMirna("poly-A", "A" * 22), NewMirna("miR-21-like", "UAGCUUAUCAGACUGAUGUUGA")])
    notes = new_entity_notes(extended, model)
    assert sum(n.startswith("new ") and "Spearman" in n for n in notes) == 3
    warnings = [n for n in notes if n.startswith("warning:")]
    assert len(warnings) == 1 and "poly-A" in warnings[0] and "popularity ranking" in warnings[0]


def test_nearest_known_entities_of_a_new_one(noisy: Dataset, model: AMMGC) -> None:
    from ammgc.prediction.explain import NEIGHBOUR_FLOOR

    explainer = Explainer(model, noisy)
    rng = np.random.default_rng(1)
    rows = {v: noisy.view(v).matrix[4] + 0.01 * rng.random(noisy.view(v).shape[1]) for v in model.drug_views}
    near = explainer.nearest("drug", rows, top=3)
    assert len(near) == 3 and all(int(e.name.removeprefix("drug")) % GROUPS == 4 % GROUPS for e in near)
    assert near[0].similarity > NEIGHBOUR_FLOOR
    # the mean row (what a new miRNA without expression data gets) is like no known one in particular
    mean = {v: noisy.view(v).matrix.mean(axis=0) for v in model.mirna_views}
    assert explainer.nearest("mirna", mean) == []


def test_a_new_entity_without_neighbours_is_called_popularity(tiny_own_data: Path) -> None:
    from ammgc.data import load_dataset
    from ammgc.prediction.explain import Evidence, new_entity_notes
    from ammgc.prediction.new_entities import NewDrug

    model = fit_model(load_dataset(tiny_own_data), {**FAST, "mirna_views": ("expression",)}, seed=0)
    extended = extend(model, [NewDrug("aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O")])
    index = extended.new_drugs[0]
    near = [Evidence("drug", "cisplatin", "fingerprint", 0.12)]
    notes = new_entity_notes(extended, model, {("drug", index): near})
    assert any("nearest known drugs cisplatin (fingerprint 0.12)" in n for n in notes)
    assert any(n.startswith("warning:") and "no known drug more similar than" in n for n in notes)
    assert not any(n.startswith("warning:") for n in new_entity_notes(extended, model, {
        ("drug", index): [Evidence("drug", "cisplatin", "fingerprint", 0.8)]}))


def test_a_new_drug_is_explained_by_known_drugs_like_it(noisy: Dataset, model: AMMGC) -> None:
    """Planted: a new drug whose features are drug 4's (group 1) plus noise. Its evidence for a group-1 miRNA
    is drugs of group 1 linked to that miRNA; its score is the miRNA's prior plus the embedding term."""
    rng = np.random.default_rng(2)
    rows = {v: noisy.view(v).matrix[[4]] + 0.01 * rng.random((1, noisy.view(v).shape[1])) for v in model.drug_views}
    drugs = pd.concat([model.dataset_.drugs, pd.DataFrame({"name": ["new-drug"]})], ignore_index=True)
    extended = extend_rows(model, drugs, rows, model.dataset_.mirnas, {})
    explainer = Explainer(model, noisy, extended)
    p, mirna = model.n_drugs_, 4  # miRNA 4 is in group 1
    e = explainer.explain(p, mirna, top=3)
    assert e.drug == "new-drug" and not e.known and e.drug_activity == 0
    assert e.score == pytest.approx(extended.scores[p, mirna])
    assert e.score == pytest.approx(e.prior_term + e.embedding_term, rel=1e-5)
    assert e.prior_term == pytest.approx(model.config.degree_prior * model.mirna_prior_[mirna])
    drugs_evidence = [x for x in e.evidence if x.side == "drug"]
    assert len(drugs_evidence) == 3 and [x for x in e.evidence if x.side == "mirna"] == []
    assert all(int(x.name.removeprefix("drug")) % GROUPS == 1 for x in drugs_evidence)
    assert all(noisy.associations[int(x.name.removeprefix("drug")), mirna] for x in drugs_evidence)


def test_cli_explain_new_mirna_warns_when_its_features_say_nothing(tiny_own_data: Path, tmp_path: Path) -> None:
    from ammgc.cli import app
    from ammgc.data import load_dataset

    model = fit_model(load_dataset(tiny_own_data), {**FAST, "mirna_views": ("expression",)}, seed=0)
    path = tmp_path / "m.ammgc"
    model.save(path)
    drug = str(model.dataset_.drugs["name"].iloc[0])
    result = CliRunner().invoke(app, ["explain", "--model", str(path), "--data", str(tiny_own_data),
                                      "--new-mirna", "poly-A", "--sequence", "A" * 22, "--drug", drug])
    assert result.exit_code == 0, result.output
    assert "warning: new miRNA poly-A: low-complexity sequence" in result.output
    assert f"{drug} x poly-A: score" in result.output and "not known" in result.output
    result = CliRunner().invoke(app, ["explain", "--model", str(path), "--new-mirna", "a", "--sequence", "A" * 22,
                                      "--new-mirna", "b", "--sequence", "C" * 22, "--drug", drug])
    assert result.exit_code == 2 and "name the miRNA to explain" in result.output


def test_near_empty_rows_are_never_cited(noisy: Dataset, model: AMMGC) -> None:
    """Planted: drugs whose fingerprint sets 3 bits and miRNAs whose expression is non-zero in one column (the
    same one), alike to each other after centring. They are never evidence, nor get evidence in that view."""
    from ammgc.prediction.explain import MIN_FINGERPRINT_BITS, MIN_PROFILE_VALUES, NO_NEIGHBOUR

    empty_drugs, empty_mirnas = [1, 4, 7, 10], [2, 5, 8, 11, 14]
    fingerprint = noisy.view("fingerprint").matrix.copy()
    fingerprint[empty_drugs] = 0.0
    fingerprint[np.ix_(empty_drugs, [0, 1, 2])] = 1.0
    expression = noisy.view("expression").matrix.copy()
    expression[empty_mirnas] = 0.0
    expression[empty_mirnas, 0] = 1.0
    assert MIN_FINGERPRINT_BITS > 3 and MIN_PROFILE_VALUES > 1
    dataset = noisy.with_views(replace(noisy.view("fingerprint"), matrix=fingerprint),
                               replace(noisy.view("expression"), matrix=expression))
    explainer = Explainer(model, dataset)
    empty = {("drug", "fingerprint", dataset.drug_names[i]) for i in empty_drugs}
    empty |= {("mirna", "expression", dataset.mirna_names[j]) for j in empty_mirnas}
    cited = 0
    for d in range(dataset.n_drugs):
        for m in range(dataset.n_mirnas):
            for x in explainer.evidence(d, m, top=50):
                assert (x.side, x.view, x.name) not in empty, (d, m, x)
                # a near-empty anchor has nothing to compare in that view
                assert not (x.side == "drug" and x.view == "fingerprint" and d in empty_drugs), (d, m, x)
                assert not (x.side == "mirna" and x.view == "expression" and m in empty_mirnas), (d, m, x)
                cited += 1
    assert cited > 1000
    # the planted rows would have been each other's best match after centring: the rule is what keeps them out
    centred = expression[empty_mirnas] - expression.mean(axis=0)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    assert (unit @ unit.T).min() > 0.9
    # an anchor with no informative row in any view of a side: "no informative neighbour", not a citation
    go = noisy.view("go").matrix.copy()
    go[empty_mirnas] = go.mean(axis=0)   # the mean row: imputed
    dataset = dataset.with_views(replace(noisy.view("go"), matrix=go))
    e = Explainer(model, dataset).explain(0, 2)
    assert [x for x in e.evidence if x.side == "mirna"] == [] and e.linked_mirnas > 0
    assert f"{NO_NEIGHBOUR} among {e.linked_mirnas}" in explanation_text(e)


def test_fingerprints_are_compared_by_tanimoto() -> None:
    from ammgc.prediction.explain import _View

    rng = np.random.default_rng(0)
    bits = (rng.random((12, 80)) < 0.5).astype(np.float64)
    bits[:, :4] = 1.0   # bits every row sets (as PubChem's length prefix) are not compared
    view = _View.of("fingerprint", bits)
    row = bits[3]
    a, b = bits[:, 4:].astype(bool), row[4:].astype(bool)
    jaccard = (a & b).sum(axis=1) / (a | b).sum(axis=1)
    np.testing.assert_allclose(view.similarities(row), np.where(view.informative, jaccard, 0.0))
    assert view.informative.all() and view.floor == pytest.approx(
        np.mean([view.similarities(bits[i])[j] for i in range(12) for j in range(i + 1, 12)]))


def test_evidence_carries_the_reports_of_the_cited_association(noisy: Dataset, model: AMMGC) -> None:
    from conftest import with_synthetic_publications

    dataset = with_synthetic_publications(noisy)
    reports = {(int(d), int(m)): r for (d, m), r in zip(dataset.publications.pairs, dataset.publications.references,
                                                          strict=True)}
    explainer = Explainer(model, dataset)
    e = explainer.explain(0, 3)
    assert e.evidence
    for x in e.evidence:
        pair = (0, dataset.mirna_names.index(x.name)) if x.side == "mirna" else (dataset.drug_names.index(x.name), 3)
        assert x.references == tuple(reports[pair].split(";")) and x.references
        assert f"PMID {x.references[0]}" in x.text() and x.as_dict()["references"] == list(x.references)
    table = pd.DataFrame({"drug_index": [0], "mirna_index": [3]})
    assert "PMID" in evidence_column(explainer, table)[0]


def test_a_new_mirnas_mean_filled_row_has_no_nearest_known_mirna(noisy: Dataset, model: AMMGC) -> None:
    """A new miRNA gets the training miRNAs' mean row for a view its sequence cannot give. With empty rows in
    the view (so the mean of the informative rows is another row), it must still match no known miRNA."""
    expression, go = noisy.view("expression").matrix.copy(), noisy.view("go").matrix.copy()
    expression[[0, 1, 2]] = 0.0
    go[[0, 1, 2]] = 0.0
    dataset = noisy.with_views(replace(noisy.view("expression"), matrix=expression),
                               replace(noisy.view("go"), matrix=go))
    explainer = Explainer(model, dataset)
    filled = {"expression": expression.mean(axis=0), "go": go.mean(axis=0)}
    assert explainer.nearest("mirna", filled) == []
    assert explainer.nearest("mirna", {"expression": expression[5], "go": go[5]})   # a real row has neighbours
