"""The same command with the same seed gives identical numbers, however busy the machine is."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ammgc.cli import main

CONFIG = {"epochs_gcn": 15, "epochs_attention": 15, "hidden": (16, 16), "mirna_views": ("expression",)}


def cv_metrics(monkeypatch: pytest.MonkeyPatch, data: Path, out: Path, seed: int) -> dict:
    """`ammgc cv` in this process; metrics.json without the wall-clock times."""
    options = ["epochs_gcn=5", "epochs_attention=5", "hidden=[16,16]", 'mirna_views=["expression"]']
    monkeypatch.setattr(sys, "argv", ["ammgc", "cv", "--data", str(data), "--method", "ammgc",
                                      *[arg for item in options for arg in ("-o", item)],
                                      "--repeats", "1", "--folds", "2", "--seed", str(seed), "--jobs", "1",
                                      "--out", str(out)])
    main()
    body = json.loads((out / "metrics.json").read_text())
    for fold in body["folds"]:
        del fold["seconds"]
    for key in ("mean", "std"):
        del body[key]["seconds"]
    return body


@pytest.mark.slow
def test_same_command_twice_gives_identical_metrics(benchmark_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    first = cv_metrics(monkeypatch, benchmark_path, tmp_path / "first", seed=5)
    second = cv_metrics(monkeypatch, benchmark_path, tmp_path / "second", seed=5)
    assert first == second


def test_a_fold_trains_on_the_same_threads_whatever_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch's CPU sums change in the last digits with the thread count, so a fold's thread count comes from
    AMMGC_THREADS (default 1), never from the machine's cores or load: a rerun on another machine, or a
    resumed run, trains with the same count (that scores do not depend on it for AMMGC is
    tests/test_layers.py::test_scores_do_not_depend_on_the_number_of_threads)."""
    from ammgc.runtime import training_threads

    monkeypatch.delenv("AMMGC_THREADS", raising=False)
    for cores in (1, 4, 64):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, cores=cores: set(range(cores)), raising=False)
        assert training_threads() == 1
    monkeypatch.setenv("AMMGC_THREADS", "3")
    assert training_threads() == 3
