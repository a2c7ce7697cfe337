"""The same command with the same seed gives identical numbers, however busy the machine is."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from ammgc.cli import main
from ammgc.data.dataset import Dataset
from ammgc.evaluation.runner import cross_validate

CONFIG = {"epochs_gcn": 15, "epochs_attention": 15, "hidden": (16, 16), "mirna_views": ("expression",)}


def cv_metrics(monkeypatch: pytest.MonkeyPatch, data: Path, out: Path, seed: int) -> dict:
    """`ammgc cv` in this process; metrics.json without the wall-clock times."""
    options = ["epochs_gcn=15", "epochs_attention=15", "hidden=[16,16]", 'mirna_views=["expression"]']
    monkeypatch.setattr(sys, "argv", ["ammgc", "cv", "--data", str(data), "--method", "ammgc",
                                      *[arg for item in options for arg in ("-o", item)],
                                      "--repeats", "1", "--folds", "2", "--seed", str(seed),
                                      "--out", str(out)])
    main()
    body = json.loads((out / "metrics.json").read_text())
    for fold in body["folds"]:
        del fold["seconds"]
    for key in ("mean", "std"):
        del body[key]["seconds"]
    return body


def test_same_command_twice_gives_identical_metrics(benchmark_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    first = cv_metrics(monkeypatch, benchmark_path, tmp_path / "first", seed=5)
    second = cv_metrics(monkeypatch, benchmark_path, tmp_path / "second", seed=5)
    assert first == second


def test_results_do_not_depend_on_machine_load(benchmark: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch's CPU sums change in the last digits with the thread count; a thread count picked from the
    load average would make a rerun (or a resumed run) differ from the first run."""
    monkeypatch.delenv("AMMGC_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    threads = torch.get_num_threads()
    folds = {}
    try:
        for load in (0.0, 3.9):  # an idle four-core machine, then a busy one
            monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
            result = cross_validate(benchmark, "ammgc", CONFIG, n_folds=2, repeats=1, seed=0, progress=False)
            folds[load] = [{k: v for k, v in f.items() if k != "seconds"} for f in result.folds]
    finally:
        torch.set_num_threads(threads)
    assert folds[0.0] == folds[3.9]
