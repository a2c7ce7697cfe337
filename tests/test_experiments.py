"""Ablation variants, sensitivity configurations, attention and case-study outputs on small synthetic data."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import as_benchmark, make_planted_dataset, with_synthetic_publications
from typer.testing import CliRunner

from ammgc.data.dataset import Dataset, FeatureView
from ammgc.errors import AmmgcError
from ammgc.evaluation.splits import PairSplit
from ammgc.experiments.ablation import VARIANT_KEYS, VARIANTS, run_ablation, select_variants, variant_of
from ammgc.experiments.attention import run_attention
from ammgc.experiments.casestudy import run_casestudy
from ammgc.experiments.sensitivity import parse_values, run_sensitivity, sensitivity_variant
from ammgc.models.ammgc import AMMGC
from ammgc.paper import TABLE3, TABLE4

TINY = {"epochs_gcn": 4, "epochs_attention": 3, "hidden": [8, 8]}
CSV_COLUMNS = ["key", "label", "source", "aupr", "aupr_std", "auc", "auc_std", "f1", "f1_std", "acc", "acc_std",
               "rec", "rec_std", "ap", "folds"]


def _variant(key: str):
    return next(v for v in VARIANTS if v.key == key)


def _fit(key: str, dataset: Dataset) -> AMMGC:
    return variant_of(AMMGC(**TINY), _variant(key)).fit(dataset, seed=0)


# --- ablation wiring ---------------------------------------------------------------------------------------

def test_paper_table2_as_given_in_the_issue() -> None:
    expected = {"full": (0.2399, 0.9467), "no_attention": (0.2167, 0.9446), "no_biological": (0.1982, 0.9414),
                "no_multimodal": (0.2263, 0.9445), "modal1": (0.2236, 0.9442), "modal2": (0.2342, 0.9424),
                "modal3": (0.2278, 0.9443), "modal4": (0.2193, 0.9409)}
    assert {v.key: (v.paper["aupr"][0], v.paper["auc"][0]) for v in VARIANTS} == expected


def test_full_variant_fuses_four_modals_with_softmax(planted) -> None:
    model = _fit("full", planted)
    assert [m.name for m in model.modals_] == ["modal 1", "modal 2", "modal 3", "modal 4"]
    assert sum(p.numel() for p in model.fusion_.parameters()) > 0
    np.testing.assert_allclose(model.coefficients_.sum(axis=0), 1.0, rtol=1e-5)


def test_without_attention_has_no_trainable_attention(planted) -> None:
    model = _fit("no_attention", planted)
    assert list(model.fusion_.parameters()) == []
    assert model.attention_losses_ == []
    np.testing.assert_array_equal(model.coefficients_, np.full((4, 8), 0.25, dtype=np.float32))


def test_without_biological_features_uses_one_hot_nodes_only(planted) -> None:
    bare = Dataset(planted.associations, planted.drugs, planted.mirnas, {}, name="no views")
    model = _fit("no_biological", bare)  # no feature view exists, so none can have been read
    spec, = model.modal_specs(bare)
    features = model.modal_features(bare, spec)
    n = planted.n_drugs + planted.n_mirnas
    np.testing.assert_array_equal(features, np.eye(n))
    assert len(model.embeddings_) == 1


def test_without_multimodal_is_one_gcn_on_all_features(planted) -> None:
    model = _fit("no_multimodal", planted)
    spec, = model.modal_specs(planted)
    assert spec.drug_views == ("fingerprint", "smiles_code") and spec.mirna_views == ("expression", "go")
    drug_width = planted.view("fingerprint").shape[1] + planted.view("smiles_code").shape[1]
    mirna_width = planted.view("expression").shape[1] + planted.view("go").shape[1]
    assert model.modal_features(planted, spec).shape[1] == max(drug_width, mirna_width)
    assert len(model.embeddings_) == 1


@pytest.mark.parametrize(("modal", "views"), [(1, ("fingerprint", "expression")), (2, ("fingerprint", "go")),
                                              (3, ("smiles_code", "expression")), (4, ("smiles_code", "go"))])
def test_single_modal_reads_only_its_two_views(planted, modal, views) -> None:
    only = Dataset(planted.associations, planted.drugs, planted.mirnas,
                   {v: planted.views[v] for v in views}, name="two views")
    model = _fit(f"modal{modal}", only)  # the other views are absent: touching them would fail
    assert [m.name for m in model.modals_] == [f"modal {modal}"]
    assert len(model.embeddings_) == 1 and model.coefficients_.shape == (1, 8)
    assert model.inputs(only)["modals"] == [{"name": f"modal {modal}", "drug": [views[0]], "mirna": [views[1]]}]


def test_variant_selection_and_conflicts(planted, tmp_path) -> None:
    assert [v.key for v in select_variants(None)] == list(VARIANT_KEYS)
    assert [v.key for v in select_variants(["modal2", "full"])] == ["full", "modal2"]
    with pytest.raises(AmmgcError, match="unknown ablation variant"):
        select_variants(["modal5"])
    assert variant_of(AMMGC(p_neg=5.0), _variant("modal3")).changed_params() == {"p_neg": 5.0, "modals": (3,)}
    with pytest.raises(AmmgcError, match="fusion"):
        run_ablation(AMMGC(fusion="linear"), planted, PairSplit(), out=tmp_path)


@pytest.mark.slow
def test_ablation_writes_table2_and_resumes(planted, tmp_path, monkeypatch) -> None:
    out = tmp_path / "abl"
    bodies = run_ablation(AMMGC(**TINY), as_benchmark(with_synthetic_publications(planted)), PairSplit(2, 1),
                         variants=["full", "no_attention", "modal2"], out=out)
    assert list(bodies) == ["full", "no_attention", "modal2", "popularity"]
    table = pd.read_csv(out / "table2.csv")
    assert list(table.columns) == CSV_COLUMNS
    assert table[["key", "source"]].values.tolist() == [
        ["full", "ours"], ["full", "paper"], ["no_attention", "ours"], ["no_attention", "paper"],
        ["modal2", "ours"], ["modal2", "paper"], ["popularity", "ours"]]
    paper_full = table[(table.key == "full") & (table.source == "paper")].iloc[0]
    assert (paper_full.aupr, paper_full.auc, paper_full.folds) == (0.2399, 0.9467, 50)
    ours = table[table.source == "ours"]
    assert ours["folds"].eq(2).all() and ours["aupr"].between(0, 1).all() and ours["auc_std"].notna().all()
    for key in ("full", "no_attention", "modal2", "popularity"):
        assert len(list((out / key / "folds").glob("r*_f*.json"))) == 2
        metrics = json.loads((out / key / "metrics.json").read_text())
        assert metrics["variant"] == key and len(metrics["folds"]) == 2
    assert json.loads((out / "modal2" / "metrics.json").read_text())["config"]["modals"] == [2]
    report = (out / "table2.md").read_text()
    assert "| w/o attention (equal weights) | paper | 0.2167 ± 0.0023" in report
    assert "epochs_gcn=4" in report and "degree_prior=" in report and "Does the full model beat each variant?" in report
    assert (out / "curves.png").stat().st_size > 0

    def refuse(*args, **kwargs):
        raise AssertionError("a stored fold was recomputed")

    monkeypatch.setattr(AMMGC, "fit", refuse)
    again = run_ablation(AMMGC(**TINY), as_benchmark(with_synthetic_publications(planted)), PairSplit(2, 1),
                         variants=["full", "no_attention",
                                                                                       "modal2"], out=out)
    assert again["full"]["mean"] == bodies["full"]["mean"]


def test_ablation_marks_the_sequence_stand_in(planted, tmp_path) -> None:
    """Results that used the miRBase `sequence` view in place of GO say so, per row and in a note."""
    sequence = FeatureView("sequence", "mirna", planted.views["go"].matrix, "synthetic")
    without_go = Dataset(planted.associations, planted.drugs, planted.mirnas,
                         {**{k: v for k, v in planted.views.items() if k != "go"}, "sequence": sequence}, name="no go")
    run_ablation(AMMGC(**TINY), without_go, PairSplit(2, 1), variants=["modal1", "modal2"], out=tmp_path)
    report = (tmp_path / "table2.md").read_text()
    assert "| modal 2 only † | ours |" in report and "| modal 1 only | ours |" in report
    assert "`sequence` view stood in" in report


# --- sensitivity -------------------------------------------------------------------------------------------

def test_sensitivity_configurations() -> None:
    h1, h2 = AMMGC.Config().hidden
    assert [sensitivity_variant(AMMGC(), "layers", k).config.hidden for k in (1, 2, 3)] == [
        (h2,), (h1, h2), (h1, h1, h2)]
    base = AMMGC(hidden=(128, 64))
    assert sensitivity_variant(base, "layers", 4).config.hidden == (128, 128, 128, 64)
    assert sensitivity_variant(base, "width", 32).config.hidden == (128, 32)
    assert sensitivity_variant(AMMGC(), "p_neg", 5).changed_params() == {"p_neg": 5.0}
    assert base.config.hidden == (128, 64)  # the base is left as it was
    with pytest.raises(AmmgcError, match="positive integer"):
        sensitivity_variant(AMMGC(), "layers", 0)


def test_parse_values() -> None:
    assert parse_values("layers", None) == [1, 2, 3, 4, 5, 6]
    assert parse_values("width", ["16,32", "64"]) == [16, 32, 64]
    assert parse_values("p_neg", ["0.5, 2"]) == [0.5, 2]
    for param, raw, message in (("depth", ["1"], "unknown parameter"), ("layers", ["1.5"], "positive integer"),
                                ("p_neg", ["-1"], "positive"), ("width", ["abc"], "not a number")):
        with pytest.raises(AmmgcError, match=message):
            parse_values(param, raw)


def test_sensitivity_writes_table_and_figure(planted, tmp_path) -> None:
    rows = run_sensitivity(AMMGC(**TINY), as_benchmark(with_synthetic_publications(planted)), PairSplit(2, 1),
                           param="p_neg", values=[1, 5], out=tmp_path)
    assert [(r["source"], r["value"]) for r in rows] == [("ours", 1), ("paper", 1), ("ours", 5), ("paper", 5)]
    own = run_sensitivity(AMMGC(**TINY), planted, PairSplit(2, 1), param="p_neg", values=[1], out=tmp_path / "own")
    assert [r["source"] for r in own] == ["ours"]   # the paper's numbers belong to its benchmark
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert {"param", "value", "hidden", "embedding_dim", *CSV_COLUMNS} <= set(table.columns)
    assert table.loc[table.source == "paper", "aupr"].tolist() == [TABLE3[1]["aupr"][0],
                                                                   TABLE3[5]["aupr"][0]]
    assert table.loc[table.source == "ours", "embedding_dim"].tolist() == [32, 32]
    assert json.loads((tmp_path / "p_neg-5" / "metrics.json").read_text())["config"]["p_neg"] == 5
    assert (tmp_path / "figure3.png").stat().st_size > 0
    assert "negative sampling ratio" in (tmp_path / "sensitivity.md").read_text()


def test_sensitivity_refuses_an_option_it_varies(planted, tmp_path) -> None:
    with pytest.raises(AmmgcError, match="conflicts"):
        run_sensitivity(AMMGC(hidden=(8, 8)), planted, PairSplit(), param="width", out=tmp_path)


# --- attention and case study ------------------------------------------------------------------------------

def test_attention_outputs(planted, tmp_path) -> None:
    body = run_attention(AMMGC(**TINY), planted, models=2, out=tmp_path)
    table = pd.read_csv(tmp_path / "attention.csv")
    assert len(table) == 8 and table["seed"].tolist() == [0] * 4 + [1] * 4
    dims = [c for c in table.columns if c.startswith("dim_")]
    assert len(dims) == 8
    np.testing.assert_allclose(table[table.seed == 0][dims].sum(axis=0), 1.0, rtol=1e-5)
    summary = pd.read_csv(tmp_path / "attention_summary.csv")
    assert summary["modal"].tolist() == ["modal 1", "modal 2", "modal 3", "modal 4"]
    assert summary["drug_views"].tolist() == ["fingerprint", "fingerprint", "smiles_code", "smiles_code"]
    assert summary["top_share"].sum() == pytest.approx(1.0)
    assert body["claim"].startswith("Paper: modals 1 and 3")
    assert (tmp_path / "figure2.png").stat().st_size > 0


def test_attention_of_equal_fusion_is_uniform(planted, tmp_path) -> None:
    run_attention(AMMGC(**TINY, fusion="equal"), planted, out=tmp_path)
    summary = pd.read_csv(tmp_path / "attention_summary.csv")
    np.testing.assert_allclose(summary["mean"], 0.25)
    assert "nothing is learned" in (tmp_path / "attention.md").read_text()


def test_casestudy_locates_the_paper_pairs(tmp_path) -> None:
    planted = make_planted_dataset()
    drugs, mirnas = planted.drugs.copy(), planted.mirnas.copy()
    drugs.loc[0, "name"] = "Gemcitabine"
    unobserved = int(np.flatnonzero(planted.associations[0] == 0)[0])
    known = int(np.flatnonzero(planted.associations[0] == 1)[0])
    mirnas.loc[unobserved, "name"] = "hsa-mir-30b"
    mirnas.loc[known, "name"] = "hsa-mir-145"
    renamed = Dataset(planted.associations, drugs, mirnas, planted.views, name="renamed")
    body = run_casestudy(AMMGC(**TINY), renamed, top=5, out=tmp_path)
    paper = pd.read_csv(tmp_path / "paper_pairs.csv")
    assert paper["paper_rank"].tolist() == [p.rank for p in TABLE4]
    status = dict(zip(paper["mirna"], paper["status"], strict=True))
    assert status["hsa-mir-30b"] == "ranked" and status["hsa-mir-145"] == "known association in this dataset"
    assert status["hsa-mir-146a"] == "not in this dataset"
    ranked = paper[paper.status == "ranked"].iloc[0]
    assert 1 <= ranked["our_rank"] <= int((planted.associations == 0).sum())
    top = pd.read_csv(tmp_path / "top.csv")
    assert list(top.columns) == ["rank", "drug_index", "drug", "mirna_index", "mirna", "score", "paper_rank",
                                 "popularity_rank"]
    assert top["rank"].tolist() == [1, 2, 3, 4, 5] and top["score"].is_monotonic_decreasing
    assert (planted.associations[top["drug_index"], top["mirna_index"]] == 0).all()
    assert body["paper_pairs_in_our_top"] == int(ranked["our_rank"] <= 5)
    assert "The paper's top 10 in our ranking" in (tmp_path / "table4.md").read_text()


def test_paper_table4_matches_the_benchmark_names(benchmark) -> None:
    from ammgc.prediction.ranking import resolve_names

    for pair in TABLE4:
        assert len(resolve_names([pair.dataset_drug], benchmark.drug_names, what="drug")) == 1
        assert len(resolve_names([pair.mirna], benchmark.mirna_names, what="miRNA")) == 1


# --- command line ------------------------------------------------------------------------------------------

def test_cli_ablation_and_casestudy(planted, tmp_path, monkeypatch) -> None:
    from ammgc.cli import app

    monkeypatch.setattr("ammgc.cli.common.load_data", lambda data=None: planted)
    monkeypatch.setattr("ammgc.cli.experiment.load_data", lambda data=None: planted)
    tiny = ["-o", "epochs_gcn=3", "-o", "epochs_attention=2", "-o", "hidden=[8,8]"]
    result = CliRunner().invoke(app, ["experiment", "ablation", "--variant", "no_multimodal", "--folds", "2",
                                      "--repeats", "1", "--out", str(tmp_path / "a"), *tiny])
    assert result.exit_code == 0, result.output
    assert "w/o multimodal (features concatenated): AUPR" in result.output and "popularity: AUPR" in result.output
    assert "epochs_attention=2" in (tmp_path / "a" / "table2.md").read_text()
    result = CliRunner().invoke(app, ["experiment", "casestudy", "--top", "3", "--out", str(tmp_path / "c"), *tiny])
    assert result.exit_code == 0, result.output
    assert "0 of the paper's top 10 are in our top 3" in result.output
    bad = CliRunner().invoke(app, ["experiment", "sensitivity", "--param", "depth"])
    assert bad.exit_code != 0
