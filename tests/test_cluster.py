"""Folds on a Dask cluster (a LocalCluster of two worker processes here): the same metrics as a local run, into
the same resumable fold store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as run

pytest.importorskip("distributed")

CV = ["--folds", "3", "--repeats", "1", "-o", "epochs_gcn=3", "-o", "epochs_attention=3", "-o", "hidden=[8,8]",
      "-o", 'mirna_views=["expression"]']


def folds(out: Path) -> list[dict]:
    body = json.loads((out / "metrics.json").read_text())
    return [{k: v for k, v in f.items() if k != "seconds"} for f in body["folds"]]


@pytest.mark.slow
def test_dask_gives_the_local_numbers_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_tiny_own_dataset

    data = write_tiny_own_dataset(tmp_path / "data")
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert run(monkeypatch, capsys, "cv", "--data", str(data), *CV, "--jobs", "1", "--out", str(local))[0] == 0
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV, "--executor", "dask", "--jobs", "2",
                    "--out", str(dask))
    assert code == 0, err
    assert folds(dask) == folds(local)
    # the folds came back into the store: a rerun (here without a cluster) resumes all of them
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV, "--jobs", "1", "--out", str(dask))
    assert code == 0 and "resuming: 3 of 3 folds already done" in err


def test_executor_options_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, "cv", "--executor", "spark", "--out", str(tmp_path / "a"))
    assert code == 2 and "executor must be one of local, dask" in err
    code, err = run(monkeypatch, capsys, "cv", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "b"))
    assert code == 2 and "use it with the dask executor" in err
    from conftest import write_tiny_own_dataset

    from ammgc.evaluation import cluster

    data = write_tiny_own_dataset(tmp_path / "data")
    monkeypatch.setattr(cluster, "SCHEDULER_TIMEOUT_S", 1)  # nothing listens there: no need to wait 10 s
    code, err = run(monkeypatch, capsys, "cv", "--data", str(data), *CV, "--executor", "dask", "--scheduler",
                    "tcp://127.0.0.1:9", "--out", str(tmp_path / "c"))
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
