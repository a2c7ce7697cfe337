"""Recorded numbers (tests/data/golden/golden_record.py) stay the same: a saved
model file still loads to the same scores, training again with its seed gives them again, new entities
score the same, and a study-split CV fold gives the same metrics."""

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


def test_the_recorded_model_file_loads_and_training_reproduces_it() -> None:
    data = record.dataset()
    stored = AMMGC.load(GOLDEN / "model.ammgc")
    again = fit_model(data, record.CONFIG, seed=3, drug_features="files", calibrate=False)
    np.testing.assert_array_equal(stored.predict_scores(), again.predict_scores())
    np.testing.assert_allclose(stored.recomputed_scores(), stored.predict_scores(), rtol=1e-6, atol=1e-6)
    recorded = np.load(GOLDEN / "new_entity_scores.npy")
    np.testing.assert_array_equal(record.new_entity_scores(stored, data), recorded)
    np.testing.assert_array_equal(record.new_entity_scores(again, data), recorded)


def test_a_recorded_cv_fold_gives_the_same_metrics() -> None:
    result = cross_validate(AMMGC(**record.CONFIG), record.dataset(), StudySplit(n_folds=3, repeats=1, seed=2))
    folds = [{k: v for k, v in f.items() if k not in ("seconds", "curves")} for f in result.folds]
    assert folds == json.loads((GOLDEN / "cv_folds.json").read_text())
