"""`ammgc predict --html`: one self-contained page, checked as text and in a real (headless) browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import fit_model, make_planted_dataset, with_synthetic_publications
from typer.testing import CliRunner

from ammgc.reporting.page import ranking_page

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no headless browser in CI: .ci/run installs chromium")
        pytest.skip("no chromium here (CI installs it)")
    return found


def _dom(page: Path, fragment: str = "") -> str:
    """The page's DOM after its script ran, as the browser serialises it."""
    run = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          page.as_uri() + fragment], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A calibrated model's ranking written by the CLI, as CSV and as the page."""
    from ammgc.cli import app

    root = tmp_path_factory.mktemp("page")
    dataset = with_synthetic_publications(make_planted_dataset(n_drugs=30, n_mirnas=48), n_publications=15)
    model = fit_model(dataset, {"epochs_gcn": 15, "epochs_attention": 15, "hidden": (16, 16)}, seed=0,
                        drug_features="files", calibrate=True, progress=False)
    model.save(root / "m.ammgc")
    result = CliRunner().invoke(app, ["predict", "--model", str(root / "m.ammgc"), "--top", "40",
                                      "--out", str(root / "ranking.csv"), "--html", str(root / "ranking.html")])
    assert result.exit_code == 0, result.output
    return root / "ranking.html", pd.read_csv(root / "ranking.csv")


def test_page_is_self_contained(page: tuple[Path, pd.DataFrame]) -> None:
    text = page[0].read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)  # nothing fetched from elsewhere
    assert 'src="data:image/png;base64,' in text  # the reliability diagram is inside
    assert "not a probability" in text and "calibrated" in text


def test_names_are_text_never_markup() -> None:
    table = pd.DataFrame({"rank": [1], "drug_index": [0], "drug": ["</script><b>x</b>"], "mirna_index": [0],
                          "mirna": ["m"], "score": [1.0]})
    text = ranking_page(table, title="<t>")
    assert "</script><b>" not in text and "&lt;t&gt;" in text


def test_browser_renders_every_row_and_filters_by_the_fragment(page: tuple[Path, pd.DataFrame]) -> None:
    path, ranking = page
    dom = _dom(path)
    ranks = [int(r) for r in re.findall(r'<tr data-rank="(\d+)"', dom)]
    assert ranks == list(ranking["rank"]), "every row rendered, in rank order"
    assert f"{len(ranking)} of {len(ranking)} pairs" in dom
    first = ranking.iloc[0]
    assert f"<td>{first['drug']}</td>" in dom and f"{first['probability']:.4f}" in dom
    # the URL fragment filters: only rows whose drug or miRNA contains the text
    name = str(first["mirna"])
    expected = ranking[ranking["drug"].str.contains(name, regex=False)
                       | ranking["mirna"].str.contains(name, regex=False)]
    dom = _dom(path, f"#q={name}")
    assert [int(r) for r in re.findall(r'<tr data-rank="(\d+)"', dom)] == list(expected["rank"])
    assert f"{len(expected)} of {len(ranking)} pairs" in dom


def test_page_and_csv_carry_the_models_caveats_and_name_its_dataset(page: tuple[Path, pd.DataFrame]) -> None:
    """The same caveats as `train` prints (views, prior, calibration) head the page and the CSV's sidecar
    JSON; the page names the dataset, not a path on the machine that trained the model."""
    import json

    path, ranking = page
    text = path.read_text(encoding="utf-8")
    sidecar = json.loads(path.with_name("ranking.csv.json").read_text())
    assert sidecar["caveats"][0].startswith("trained on the views fingerprint x expression")
    assert any(c.startswith("probabilities calibrated") for c in sidecar["caveats"])
    assert set(sidecar["columns"]) == set(ranking.columns) and "never above" in sidecar["columns"]["probability"]
    for caveat in sidecar["caveats"]:
        assert caveat.replace("'", "&#x27;") in text
    assert "(planted), seed 0" in text and str(path.parent) not in text


def test_pubmed_ids_in_the_evidence_link_to_their_record(tmp_path: Path) -> None:
    table = pd.DataFrame({"rank": [1], "drug_index": [0], "drug": ["d"], "mirna_index": [0], "mirna": ["m"],
                          "score": [1.0], "evidence": ["miRNA hsa-mir-21 (expression 0.81; PMID 18823650, 20099276)"]})
    path = tmp_path / "p.html"
    path.write_text(ranking_page(table, title="t"), encoding="utf-8")
    dom = _dom(path)
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/18823650/"' in dom
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/20099276/"' in dom and "expression 0.81" in dom
