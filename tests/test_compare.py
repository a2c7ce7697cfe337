"""`ammgc compare`: every method on identical folds, resumable, with Table 1 outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import ammgc.evaluation.runner as runner
from ammgc.cli import app
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.splits import PairSplit, StudySplit, TimeSplit
from ammgc.experiments.compare import ALL_METHODS, fold_plan_digest, run_compare, run_protocols, select_methods

FAST = {"gf": {"epochs": 20}}


@pytest.fixture
def fold_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Records (method, fold key, digest of the fold's training matrix and test pairs) of every fold run."""
    log: list[tuple[str, str, str]] = []
    original = runner.run_fold

    def recording(method, dataset, fold, seed):
        digest = hashlib.sha1(fold.train.tobytes() + fold.candidates.tobytes() + fold.labels.tobytes())
        log.append((method.name, fold.key, digest.hexdigest()))
        return original(method, dataset, fold, seed)

    monkeypatch.setattr(runner, "run_fold", recording)
    return log


def test_every_method_sees_the_same_folds(planted: Dataset, tmp_path: Path, fold_log: list) -> None:
    bodies = run_compare(select_methods("popularity,cf,gf", FAST), planted, PairSplit(3, 2, 4), out=tmp_path)
    assert list(bodies) == ["popularity", "cf", "gf"]
    per_method = {m: sorted((key, digest) for method, key, digest in fold_log if method == m) for m in bodies}
    assert len(per_method["cf"]) == 6
    assert per_method["popularity"] == per_method["cf"] == per_method["gf"]
    # a different seed is a different split plan
    assert fold_plan_digest(planted, PairSplit(3, 2, 4)) != fold_plan_digest(planted, PairSplit(3, 2, 5))


def test_writes_table1_and_each_methods_metrics(planted: Dataset, tmp_path: Path) -> None:
    from conftest import as_benchmark

    # the paper's numbers appear beside results on the benchmark only: the planted data stands in for it here
    planted = as_benchmark(planted)
    run_compare(select_methods(["cf", "popularity"]), planted, PairSplit(3, 1), out=tmp_path)
    for name in ("cf", "popularity"):
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        assert metrics["method"] == name and len(metrics["folds"]) == 3
        assert len(list((tmp_path / name / "folds").glob("r*_f*.json"))) == 3
    table = pd.read_csv(tmp_path / "table1.csv")
    assert table["method"].tolist() == ["cf", "popularity"]
    cf, pop = table.iloc[0], table.iloc[1]
    assert cf["auc_paper"] == pytest.approx(0.8618) and cf["aupr_paper_std"] == pytest.approx(0.0058)
    assert np.isnan(pop["auc_paper"])
    assert cf["auc"] > pop["auc"] and "auc" in cf["best"].split(";")
    assert (table["seconds_per_fold"] > 0).all()
    text = (tmp_path / "table1.md").read_text()
    assert f"**{cf['auc']:.4f} ± {cf['auc_std']:.4f}**" in text
    assert fold_plan_digest(planted, PairSplit(3, 1)) in text
    assert (tmp_path / "table1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_rerun_resumes_instead_of_training(planted: Dataset, tmp_path: Path, fold_log: list) -> None:
    first = run_compare(select_methods("cf,gf", FAST), planted, PairSplit(3, 1), out=tmp_path)
    assert len(fold_log) == 6
    (tmp_path / "gf" / "folds" / "r00_f01.json").unlink()
    again = run_compare(select_methods("cf,gf", FAST), planted, PairSplit(3, 1), out=tmp_path)
    assert fold_log[6:] == [("gf", "r00_f01", fold_log[4][2])]
    assert again["cf"]["mean"] == first["cf"]["mean"]
    assert again["gf"]["mean"]["auc"] == pytest.approx(first["gf"]["mean"]["auc"])


def test_method_selection() -> None:
    assert list(select_methods("all")) == list(ALL_METHODS) and "ammgc" in ALL_METHODS
    assert list(select_methods(" cf, LP,cf ")) == ["cf", "lp"]
    assert list(select_methods("popularity,all"))[:3] == ["popularity", "popularity-studies", "cf"]
    with pytest.raises(AmmgcError, match="unknown method 'svd'"):
        select_methods("cf,svd")
    with pytest.raises(AmmgcError, match="no method"):
        select_methods(" , ")


def test_options_for_a_method_not_compared_are_an_error(planted: Dataset, tmp_path: Path) -> None:
    with pytest.raises(AmmgcError, match="sdne"):
        select_methods("cf", {"sdne": {"epochs": 5}})


def test_command_line(benchmark_path: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    result = cli.invoke(app, ["compare", "--data", str(benchmark_path), "--methods", "popularity,cf", "--folds", "2",
                              "--repeats", "1", "--jobs", "1", "--out", str(tmp_path), "-o", "cf.neighbours=5"])
    assert result.exit_code == 0, result.output
    assert "popularity" in result.output and "table1.md" in result.output
    assert json.loads((tmp_path / "cf" / "metrics.json").read_text())["config"]["neighbours"] == 5
    assert {p.name for p in tmp_path.iterdir()} >= {"table1.md", "table1.csv", "table1.png", "cf", "popularity"}
    bad = cli.invoke(app, ["compare", "--data", str(benchmark_path), "--out", str(tmp_path), "-o", "neighbours=5"])
    assert bad.exit_code == 2 and "METHOD.KEY=VALUE" in bad.output
    unknown = cli.invoke(app, ["compare", "--data", str(benchmark_path), "--methods", "cf,nope",
                               "--out", str(tmp_path)])
    assert isinstance(unknown.exception, AmmgcError)


def test_a_bad_option_fails_before_any_method_runs(planted: Dataset, tmp_path: Path, fold_log: list) -> None:
    with pytest.raises(AmmgcError, match="no option"):
        select_methods("cf,gf", {"gf": {"rank": 3}})
    assert fold_log == []


def test_every_protocol_side_by_side(planted_with_publications: Dataset, tmp_path: Path) -> None:
    results = run_protocols(select_methods("popularity,cf-mirna"), planted_with_publications,
                            [PairSplit(3, 1), StudySplit(3, 2), TimeSplit((0.5, 0.7))], out=tmp_path)
    assert list(results) == ["pair", "study", "time"]
    assert len(results["study"]["cf-mirna"]["folds"]) == 6 and len(results["time"]["popularity"]["folds"]) == 2
    # a preset runs its registered method with the preset's configuration
    assert results["pair"]["cf-mirna"]["config"]["side"] == "mirna"
    table = pd.read_csv(tmp_path / "protocols.csv")
    assert table["method"].tolist() == ["popularity", "cf-mirna"]
    assert table.loc[0, "time_ap"] == pytest.approx(results["time"]["popularity"]["mean"]["ap"])
    page = (tmp_path / "protocols.md").read_text()
    assert "drop pair -> study" in page and "| popularity |" in page
    # the paper's numbers belong to its own random-pair protocol only
    time_table = pd.read_csv(tmp_path / "time" / "table1.csv")
    assert time_table["auc_paper"].isna().all()
    assert "P@100" in (tmp_path / "time" / "table1.md").read_text()


def test_cli_split_options_are_checked_before_any_work(planted: Dataset, tmp_path: Path) -> None:
    cases = [(["cv", "--split", "time", "--repeats", "3"], "--repeats"),
             (["cv", "--split", "pair", "--cutoffs", "0.5"], "--cutoffs"),
             (["cv", "--split", "time", "--cutoffs", "0.5,1.2"], "--cutoffs"),
             (["cv", "--split", "weekly"], "--split"),
             (["compare", "--split", "pair,study", "--repeats", "2"], "--repeats")]
    for args, option in cases:
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "never")])
        assert result.exit_code == 2 and option in result.output, (args, result.output)
        assert not (tmp_path / "never").exists()


def test_all_on_own_data_without_publications_leaves_out_what_needs_them(
        planted: Dataset, planted_with_publications: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ammgc.experiments.compare as compare

    monkeypatch.setattr(compare, "ALL_METHODS", ("popularity", "popularity-studies"))
    assert list(run_compare(select_methods("all"), planted, PairSplit(2, 1), out=tmp_path / "a",
                            skip_unavailable=True)) == ["popularity"]
    # asked for by name, it is an error that says what the data lacks, before any method runs
    with pytest.raises(AmmgcError, match="pmid"):
        run_compare(select_methods("popularity,popularity-studies"), planted, PairSplit(2, 1), out=tmp_path / "b")
    assert not (tmp_path / "b" / "popularity").exists()
    both = run_compare(select_methods("all"), planted_with_publications, PairSplit(2, 1), out=tmp_path / "c")
    assert list(both) == ["popularity", "popularity-studies"]
    assert both["popularity-studies"]["config"] == {"counts": "studies", "smoothing": 1.0}


def test_paired_difference_over_repeats_and_over_cutoffs() -> None:
    from ammgc.experiments.compare import paired_difference

    def body(values: dict[tuple[int, int], float]) -> dict:
        return {"method": "m", "folds": [{"repeat": r, "fold": f, "ap": v} for (r, f), v in values.items()]}

    ours = body({(0, 0): 0.3, (0, 1): 0.5, (1, 0): 0.4, (1, 1): 0.6})
    theirs = body({(0, 0): 0.2, (0, 1): 0.2, (1, 0): 0.3, (1, 1): 0.3})
    diff, sem = paired_difference(ours, theirs, "ap")
    # per-repeat mean differences 0.2 and 0.2: the repeats agree, so no spread
    assert diff == pytest.approx(0.2) and sem == pytest.approx(0.0, abs=1e-12)
    cutoffs = paired_difference(body({(0, 0): 0.3, (0, 1): 0.2, (0, 2): 0.4}),
                                body({(0, 0): 0.1, (0, 1): 0.1, (0, 2): 0.1}), "ap")
    assert cutoffs[0] == pytest.approx(0.2) and cutoffs[1] == pytest.approx(np.std([0.2, 0.1, 0.3], ddof=1) / 3 ** 0.5)
    with pytest.raises(AmmgcError, match="not paired"):
        paired_difference(ours, body({(0, 0): 0.1}), "ap")


def test_no_paper_numbers_beside_own_data(planted: Dataset, tmp_path: Path) -> None:
    run_compare(select_methods(["cf"]), planted, PairSplit(2, 1), out=tmp_path)
    assert pd.read_csv(tmp_path / "table1.csv")["auc_paper"].isna().all()


USER_METHOD = """
import numpy as np


class Degree:
    \"\"\"A user's method: inherits nothing from ammgc.\"\"\"

    def fit(self, dataset, train=None, *, seed=None):
        a = dataset.associations if train is None else train
        self.scores = np.outer(a.sum(axis=1), a.sum(axis=0)).astype(float)
        return self

    def predict_scores(self):
        return self.scores
"""


def test_a_users_plain_class_runs_beside_the_built_in_methods(planted_with_publications: Dataset, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`ammgc compare --methods popularity,mymodule:Degree` imports the class from the current directory."""
    (tmp_path / "mymodule.py").write_text(USER_METHOD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    results = run_compare(select_methods("popularity,mymodule:Degree"), planted_with_publications,
                          StudySplit(3, 1), out=tmp_path / "out")
    assert list(results) == ["popularity", "mymodule:Degree"]
    # a degree product is popularity: the same folds give the same grades
    assert results["mymodule:Degree"]["mean"]["auc"] == pytest.approx(results["popularity"]["mean"]["auc"])
    table = pd.read_csv(tmp_path / "out" / "table1.csv")
    assert table["method"].tolist() == ["popularity", "mymodule:Degree"]


def test_what_any_method_or_protocol_needs_is_had_before_the_first_one_trains(
        planted: Dataset, tmp_path: Path, fold_log: list) -> None:
    """Own data without publications: a method that needs them, or a later protocol that does, stops the
    comparison before anything trains (not after the methods or protocols before it)."""
    with pytest.raises(AmmgcError, match="pmid"):
        run_compare(select_methods("popularity,popularity-studies"), planted, PairSplit(2, 1), out=tmp_path / "a")
    with pytest.raises(AmmgcError, match="pmid"):
        run_protocols(select_methods("popularity"), planted, [PairSplit(2, 1), StudySplit(2, 1)], out=tmp_path / "b")
    assert fold_log == []
