"""Record the golden model file and CV fold that tests/test_golden.py compares every later version against.

Run once, before a change that must not move any number:
    python tests/data/golden/golden_record.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))

import pandas as pd  # noqa: E402
from conftest import fit_model, make_planted_dataset, with_synthetic_publications  # noqa: E402

from ammgc.evaluation.runner import cross_validate  # noqa: E402
from ammgc.evaluation.splits import StudySplit  # noqa: E402
from ammgc.models.ammgc import AMMGC  # noqa: E402
from ammgc.prediction.new_entities import extend_rows  # noqa: E402

CONFIG = {"epochs_gcn": 12, "epochs_attention": 12, "hidden": [16, 8]}


def dataset():  # type: ignore[no-untyped-def]
    return with_synthetic_publications(make_planted_dataset(n_drugs=20, n_mirnas=30), n_publications=10)


def new_entity_scores(model, data):  # type: ignore[no-untyped-def]
    """Scores of a new drug and a new miRNA that carry the features of drug 0 and miRNA 0 (the isolated-node path)."""
    import numpy as np

    drug_rows = {v: data.view(v).matrix[[0]] for v in model.drug_views}
    mirna_rows = {v: data.view(v).matrix[[0]] for v in model.mirna_views}
    drugs = pd.concat([model.dataset_.drugs, pd.DataFrame({"name": ["new drug"]})], ignore_index=True)
    mirnas = pd.concat([model.dataset_.mirnas, pd.DataFrame({"name": ["new miRNA"]})], ignore_index=True)
    extended = extend_rows(model, drugs, drug_rows, mirnas, mirna_rows)
    return np.concatenate([extended.scores[-1], extended.scores[:, -1]])


if __name__ == "__main__":
    import numpy as np

    data = dataset()
    model = fit_model(data, CONFIG, seed=3, drug_features="files", calibrate=False)
    model.save(HERE / "model.ammgc")
    np.save(HERE / "new_entity_scores.npy", new_entity_scores(model, data))
    result = cross_validate(AMMGC(**CONFIG), data, StudySplit(n_folds=3, repeats=1, seed=2))
    folds = [{k: v for k, v in f.items() if k not in ("seconds", "curves")} for f in result.folds]
    (HERE / "cv_folds.json").write_text(json.dumps(folds, indent=1, sort_keys=True) + "\n")
