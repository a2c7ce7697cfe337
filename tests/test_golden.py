"""Recorded numbers (tests/data/golden/golden_record.py) stay the same: a saved model
file still loads to the same scores, training again with its seed gives them again, new entities score the same,
and a study-split CV fold gives the same metrics.

They were recorded on one machine: another CPU's BLAS kernels round differently, so recorded numbers are compared
to a relative 1e-6; bit-identity is asserted only between two runs here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).parent / "data" / "golden"
sys.path.insert(0, str(GOLDEN))

import golden_record as record  # noqa: E402
from conftest import fit_model  # noqa: E402

from ammgc.evaluation.runner import cross_validate  # noqa: E402
from ammgc.evaluation.splits import StudySplit  # noqa: E402
from ammgc.models.ammgc import AMMGC  # noqa: E402

RTOL = 1e-6


def test_the_recorded_model_file_loads_and_training_reproduces_it() -> None:
    data = record.dataset()
    stored = AMMGC.load(GOLDEN / "model.ammgc")
    again = fit_model(data, record.CONFIG, seed=3, drug_features="files", calibrate=False)
    np.testing.assert_allclose(again.predict_scores(), stored.predict_scores(), rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(stored.recomputed_scores(), stored.predict_scores(), rtol=1e-6, atol=1e-6)
    recorded = np.load(GOLDEN / "new_entity_scores.npy")
    np.testing.assert_allclose(record.new_entity_scores(stored, data), recorded, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(record.new_entity_scores(again, data), recorded, rtol=RTOL, atol=1e-9)
    # on one machine, in one process: the same bits
    twice = fit_model(data, record.CONFIG, seed=3, drug_features="files", calibrate=False)
    np.testing.assert_array_equal(twice.predict_scores(), again.predict_scores())


def test_a_recorded_cv_fold_gives_the_same_metrics() -> None:
    result = cross_validate(AMMGC(**record.CONFIG), record.dataset(), StudySplit(n_folds=3, repeats=1, seed=2))
    folds = [{k: v for k, v in f.items() if k not in ("seconds", "curves")} for f in result.folds]
    recorded = json.loads((GOLDEN / "cv_folds.json").read_text())
    assert [sorted(f) for f in folds] == [sorted(f) for f in recorded]
    for fold, expected in zip(folds, recorded, strict=True):
        for key, value in expected.items():
            if isinstance(value, float):
                assert np.isclose(fold[key], value, rtol=RTOL, atol=1e-12), (key, fold[key], value)
            else:
                assert fold[key] == value, key
