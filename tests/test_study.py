"""`ammgc study`: the parts are the separate commands' outputs, a configuration shared by parts is trained once,
and the plan says what will run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as run

FAST = ["-o", "epochs_gcn=2", "-o", "epochs_attention=2", "-o", "hidden=[4,8]",
        "-o", 'drug_views=["fingerprint","code"]', "-o", 'mirna_views=["expression","profile"]']


def own_data(root: Path) -> Path:
    """The tiny own dataset with two drug and two miRNA feature tables (four modals, as the paper's)."""
    import numpy as np
    from conftest import TINY_DRUGS, write_tiny_own_dataset

    data = write_tiny_own_dataset(root)
    rng = np.random.default_rng(1)
    (data / "features" / "drug").mkdir(parents=True, exist_ok=True)
    for name in ("fingerprint", "code"):
        rows = "".join(f"{n}," + ",".join(str(b) for b in rng.integers(0, 2, 6)) + "\n" for n in TINY_DRUGS)
        (data / "features" / "drug" / f"{name}.csv").write_text("name,b1,b2,b3,b4,b5,b6\n" + rows)
    expression = (data / "features" / "mirna" / "expression.csv").read_text().splitlines()
    profile = [expression[0]] + [f"{line.split(',', 1)[0]}," + ",".join(f"{v:.3f}" for v in rng.random(5))
                                 for line in expression[1:]]
    (data / "features" / "mirna" / "profile.csv").write_text("\n".join(profile) + "\n")
    return data




def folds(path: Path) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "seconds"} for f in json.loads(path.read_text())["folds"]]


@pytest.mark.slow
def test_study_shares_the_paper_configuration_and_matches_the_separate_commands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = own_data(tmp_path / "data")
    out = tmp_path / "study"
    common = ["--data", str(data), "--repeats", "1", "--folds", "2", "--jobs", "1", *FAST]
    code, err = run(monkeypatch, capsys, "study", *common, "--parts", "table1,table2,table3", "--out", str(out))
    assert code == 0, err
    assert "study plan:" in err and "shared between parts" in err
    # Table 1's paper-faithful AMMGC is reused as Table 2's full model and Table 3's 1:1, its popularity as
    # Table 2's popularity row
    assert err.count("folds of this configuration were already trained in this study") == 3
    paper = folds(out / "table1" / "ammgc-paper" / "metrics.json")
    assert folds(out / "table2" / "full" / "metrics.json") == paper
    assert folds(out / "table3" / "p_neg-1" / "metrics.json") == paper
    index = (out / "index.md").read_text()
    assert "table2/table2.md" in index and (out / "table2" / "table2.md").is_file()
    # the same table from the separate command, given the paper-faithful options the study uses
    alone = tmp_path / "alone"
    paper = ["-o", "degree_prior=0", "-o", "prior_in_training=0", "-o", 'prior_counts="pairs"']
    code, err = run(monkeypatch, capsys, "experiment", "ablation", "--data", str(data), "--repeats", "1", "--folds",
                    "2", "--jobs", "1", *paper, *FAST, "--out", str(alone))
    assert code == 0, err
    for variant in ("full", "no_attention", "modal3"):
        assert folds(alone / variant / "metrics.json") == folds(out / "table2" / variant / "metrics.json")


def test_the_plan_alone_and_bad_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, "study", "--plan", "--out", str(tmp_path / "s"))
    assert code == 0 and "56 cross-validations" in err and "estimated time" in err
    assert not (tmp_path / "s").exists()
    code, err = run(monkeypatch, capsys, "study", "--parts", "table9", "--out", str(tmp_path / "t"))
    assert code == 2 and "unknown" in err
