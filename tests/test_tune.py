"""`ammgc tune`: defaults chosen on an inner split of training data only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ammgc.evaluation.runner as runner
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.evaluation.splits import TimeSplit, splitter
from ammgc.experiments.tune import expand_grid, run_tune, tuning_data


@pytest.mark.parametrize("split", ["study", "time", "pair"])
def test_tuning_never_sees_an_outer_test_pair(planted_with_publications: Dataset, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, split: str) -> None:
    dataset = planted_with_publications
    seen: list[np.ndarray] = []
    original = runner.run_fold

    def recording(method, data, fold, seed):
        seen.append(data.associations.copy())
        seen.append(fold.train.copy())
        return original(method, data, fold, seed)

    monkeypatch.setattr(runner, "run_fold", recording)
    grid = expand_grid({"side": ["drug", "mirna"], "neighbours": [2, 5]})
    chosen = run_tune("cf", dataset, split=split, grid=grid, inner_folds=2, n_folds=3, cutoffs=(0.5,),
                      out=tmp_path, progress=False)
    outer = next(splitter(split, n_folds=3, repeats=1, cutoffs=(0.5,)).split(dataset))
    held = outer.train == 0
    assert len(seen) == 2 * 4 * (3 if split == "time" else 2)
    for matrix in seen:
        assert not (matrix.astype(bool) & held).any()
    assert chosen["point"] in grid and chosen["config"]["side"] == chosen["point"]["side"]
    saved = json.loads((tmp_path / "best.json").read_text())
    assert saved["point"] == chosen["point"]
    page = (tmp_path / "tune.md").read_text()
    assert page.count("(chosen)") == 1 and "No outer test pair" in page


def test_time_tuning_data_is_the_past_of_the_earliest_cutoff(planted_with_publications: Dataset) -> None:
    inner = tuning_data(planted_with_publications, "time", cutoffs=(0.6, 0.8))
    first = next(TimeSplit((0.6,)).split(planted_with_publications))
    assert np.array_equal(inner.associations, first.train)
    assert inner.publications is not None and len(inner.publications.pairs) == inner.n_associations


def test_a_bad_grid_value_fails_before_training(planted_with_publications: Dataset, tmp_path: Path) -> None:
    with pytest.raises(AmmgcError, match="no option"):
        run_tune("cf", planted_with_publications, grid=[{"sides": "drug"}], out=tmp_path, progress=False)
