from dataclasses import replace

import numpy as np
import pytest
import torch

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.evaluation.metrics import evaluate_scores
from ammgc.evaluation.splits import PairSplit
from ammgc.models.ammgc import AMMGC
from ammgc.models.layers import AttentionFusion, GCNEncoder

FAST = {"epochs_gcn": 15, "epochs_attention": 15, "hidden": (8, 8)}


def test_fit_score_shapes_and_attention_normalised(planted) -> None:
    model = AMMGC(**FAST).fit(planted, seed=0)
    scores = model.predict_scores()
    assert scores.shape == (planted.n_drugs, planted.n_mirnas)
    assert np.isfinite(scores).all()
    # logits: the sigmoid of the score is the paper's eq. 5, without its float rounding to 1.0 at the top
    logits = model._logits + model.config.degree_prior * (model.drug_prior_[:, None] + model.mirna_prior_[None, :])
    np.testing.assert_array_equal(scores, logits)
    assert len(model.embeddings_) == 4
    assert model.coefficients_.shape == (4, 8)
    np.testing.assert_allclose(model.coefficients_.sum(axis=0), 1.0, rtol=1e-5)
    assert [m.shape for m in model.modal_scores()] == [scores.shape] * 4


def test_losses_decrease(planted) -> None:
    model = AMMGC(epochs_gcn=40, epochs_attention=40, hidden=(16, 16)).fit(planted, seed=1)
    for losses in model.modal_losses_:
        assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert np.mean(model.attention_losses_[-10:]) < np.mean(model.attention_losses_[:10])


def test_same_seed_same_scores_different_seed_differs(planted) -> None:
    a = AMMGC(**FAST).fit(planted, seed=5).predict_scores()
    b = AMMGC(**FAST).fit(planted, seed=5).predict_scores()
    c = AMMGC(**FAST).fit(planted, seed=6).predict_scores()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_recovers_planted_structure(planted) -> None:
    fold = list(PairSplit(repeats=1).split(planted))[0]
    model = AMMGC(epochs_gcn=60, epochs_attention=60, hidden=(16, 16)).fit(planted, fold.train, seed=0)
    scores = model.predict_scores()
    metrics = evaluate_scores(fold.labels, scores[fold.candidates[:, 0], fold.candidates[:, 1]])
    assert metrics["auc"] > 0.8


def test_training_graph_excludes_test_positives(planted, monkeypatch) -> None:
    """Everything association-dependent inside fit is built from the matrix it is given."""
    fold = list(PairSplit(repeats=1).split(planted))[1]
    seen = []
    import ammgc.models.training as module

    real = module.normalized_adjacency
    monkeypatch.setattr(module, "normalized_adjacency", lambda m: seen.append(np.array(m)) or real(m))
    AMMGC(epochs_gcn=2, epochs_attention=2, hidden=(4, 4)).fit(planted, fold.train, seed=0)
    adjacency_input = seen[0]
    assert adjacency_input[fold.held_out[:, 0], fold.held_out[:, 1]].sum() == 0
    np.testing.assert_array_equal(adjacency_input, fold.train)


@pytest.mark.parametrize("modal", [1, 2, 3, 4])
def test_single_modal_variant_uses_only_its_views(planted, modal) -> None:
    model = AMMGC(modals=(modal,), **FAST)
    specs = model.modal_specs(planted)
    expected = [("fingerprint", "expression"), ("fingerprint", "go"), ("smiles_code", "expression"),
                ("smiles_code", "go")][modal - 1]
    assert [(s.drug_views[0], s.mirna_views[0]) for s in specs] == [expected]
    model.fit(planted, seed=0)
    assert len(model.embeddings_) == 1


def test_equal_weight_variant_has_no_trainable_attention(planted) -> None:
    fusion = AttentionFusion(4, 10, 3, mode="equal")
    assert list(fusion.parameters()) == []
    model = AMMGC(fusion="equal", **FAST).fit(planted, seed=0)
    np.testing.assert_allclose(model.coefficients_, 0.25)
    assert model.attention_losses_ == []


def test_onehot_and_concat_variants(planted) -> None:
    onehot = AMMGC(node_features="onehot", **FAST)
    x = onehot.modal_features(planted, onehot.modal_specs(planted)[0])
    np.testing.assert_array_equal(x, np.eye(planted.n_drugs + planted.n_mirnas))
    concat = AMMGC(node_features="concat", **FAST)
    (spec,) = concat.modal_specs(planted)
    assert spec.drug_views == ("fingerprint", "smiles_code") and spec.mirna_views == ("expression", "go")
    assert concat.modal_features(planted, spec).shape[1] == 15 + 9
    concat.fit(planted, seed=0)


def test_encoder_depth_and_activation() -> None:
    enc = GCNEncoder(5, (8, 8, 8), last_activation="relu")
    adjacency = torch.eye(6)
    out = enc.eval()(torch.rand(6, 5), adjacency)
    assert out.shape == (6, 8) and (out >= 0).all()
    assert len(enc.layers) == 3


def test_diverging_training_stops_with_clear_error(planted) -> None:
    from ammgc.errors import TrainingError

    bad = planted.with_views(*[v for v in planted.views.values()])
    with pytest.raises(TrainingError, match="epoch"):
        AMMGC(lr=1e30, epochs_gcn=20, epochs_attention=5, hidden=(8, 8)).fit(bad, seed=0)


def test_degree_prior_adds_log_degree_term(planted) -> None:
    plain = AMMGC(degree_prior=0.0, **FAST).fit(planted, seed=2)
    prior = AMMGC(degree_prior=1.5, **FAST).fit(planted, seed=2)
    deg_d = planted.associations.sum(axis=1)
    deg_m = planted.associations.sum(axis=0)
    expected = plain._logits + 1.5 * (np.log1p(deg_d)[:, None] + np.log1p(deg_m)[None, :])
    np.testing.assert_allclose(prior.predict_scores(), expected, rtol=1e-6)
    np.testing.assert_allclose(plain.predict_scores(), plain._logits, rtol=1e-6)


def test_auto_prior_counts_studies_where_publications_are_known(planted_with_publications: Dataset) -> None:
    from ammgc.data.publications import report_counts

    fast = {"epochs_gcn": 3, "epochs_attention": 3, "hidden": (8, 8), "prior_counts": "auto"}
    train = planted_with_publications.associations
    with_pubs = methods.get("ammgc", **fast).fit(planted_with_publications, train)
    drugs, _ = report_counts(planted_with_publications.publications, train)
    assert with_pubs.prior_counts_ == "studies" and np.array_equal(with_pubs.drug_prior_, np.log1p(drugs))
    without = methods.get("ammgc", **fast).fit(replace(planted_with_publications, publications=None), train)
    assert without.prior_counts_ == "pairs" and np.array_equal(without.drug_prior_, np.log1p(train.sum(axis=1)))


def test_training_offset_moves_the_embeddings_but_not_the_prior(planted_with_publications: Dataset) -> None:
    fast = {"epochs_gcn": 5, "epochs_attention": 5, "hidden": (8, 8), "prior_counts": "studies"}
    train = planted_with_publications.associations
    plain = methods.get("ammgc", **fast, prior_in_training=0.0).fit(planted_with_publications, train, seed=2)
    residual = methods.get("ammgc", **fast, prior_in_training=2.0).fit(planted_with_publications, train, seed=2)
    assert not np.allclose(plain.embeddings_[0], residual.embeddings_[0])
    np.testing.assert_array_equal(plain.drug_prior_, residual.drug_prior_)


def test_a_strong_prior_does_not_tie_the_top_of_the_ranking(planted: Dataset) -> None:
    """sigma(x) is exactly 1.0 in float64 for x above ~37; the score is the logit so the top stays ordered."""
    model = AMMGC(**FAST, degree_prior=40.0).fit(planted, seed=0)
    scores = model.predict_scores()
    top = np.sort(scores.ravel())[-50:]
    assert (1.0 / (1.0 + np.exp(-top)) == 1.0).all()      # the sigmoid would tie all of them
    assert len(np.unique(top)) > 40
