"""Feature views: which are read from files, which are computed, and computing them on demand.

File views of the benchmark: ``fingerprint`` (drug, 920), ``smiles_code`` (drug, 85), ``expression``
(miRNA, 172) and ``go`` (miRNA, 2,587; only when the GO file is present). Computed views:

* ``fingerprint_smiles`` (drug): PubChem bits from SMILES, in the benchmark's 920-column layout.
* ``smiles_code_smiles`` (drug): the 85-character label encoding recomputed from SMILES.
* ``sequence`` (miRNA): similarity to every human miRBase stem-loop; stands in for ``go`` when absent.

The benchmark's own files stay the default views for benchmark drugs (paper-faithful); the computed
views are what new drugs and miRNAs get.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ammgc.data.dataset import Dataset, FeatureView
from ammgc.errors import AmmgcError, DataError
from ammgc.features.drug import (
    drug_views_from_smiles,
    fingerprint_agreement,
    label_rows_reproduced,
)
from ammgc.features.mirna import SequenceView, mirna_sequence_row, sequence_feature_view

__all__ = ["COMPUTED_VIEWS", "FILE_VIEWS", "SMILES_KEY", "SMILES_TWIN", "describe_views", "drug_views_from_smiles",
           "ensure_views", "go_view_name", "mirna_sequence_row", "view_record"]

FILE_VIEWS = ("fingerprint", "smiles_code", "expression", "go")
COMPUTED_VIEWS = {"fingerprint_smiles": "drug", "smiles_code_smiles": "drug", "sequence": "mirna"}
_DRUG_VIEW_OF = {"fingerprint_smiles": "fingerprint", "smiles_code_smiles": "smiles_code"}
#: file drug view -> its SMILES-derived twin (what a drug given only by its SMILES gets)
SMILES_TWIN = {file_view: twin for twin, file_view in _DRUG_VIEW_OF.items()}
#: the drug views a new drug can get, and the key of ``drug_views_from_smiles`` that gives each
SMILES_KEY = {**{v: v for v in _DRUG_VIEW_OF.values()}, **_DRUG_VIEW_OF}


def go_view_name(dataset: Dataset) -> str:
    """The miRNA view used as X_m2: ``go`` when the dataset has it, else ``sequence`` (its stand-in)."""
    return "go" if "go" in dataset.views else "sequence"


def ensure_views(dataset: Dataset, names: Iterable[str], *, mirbase: Path | None = None) -> Dataset:
    """The dataset with every named view present, computing the computable ones that are missing."""
    wanted = [names] if isinstance(names, str) else list(dict.fromkeys(names))
    missing = [n for n in wanted if n not in dataset.views]
    for name in missing:
        if name == "go":
            raise AmmgcError(
                "the GO similarity view cannot be computed: add features/ncrna_GOsimilarity_full.txt "
                "(754 x 2,587, git blob ee301b47895a616999cbba811d7f6704c038ca69) to the benchmark "
                "directory, or use the miRBase 'sequence' view that stands in for it")
        if name in FILE_VIEWS:
            raise AmmgcError(f"feature view {name!r} is read from the dataset's files and is not in "
                             f"{dataset.source or dataset.name}; it cannot be computed. {_instead(name)}")
        if name not in COMPUTED_VIEWS:
            known = ", ".join(sorted(set(FILE_VIEWS) | set(COMPUTED_VIEWS)))
            raise AmmgcError(f"unknown feature view {name!r}; known views: {known}")
    new: list[FeatureView] = []
    drug_wanted = [n for n in missing if COMPUTED_VIEWS.get(n) == "drug"]
    if drug_wanted:
        new.extend(_drug_feature_views(dataset, drug_wanted))
    if "sequence" in missing:
        new.append(_sequence_view(dataset, mirbase)[0])
    return dataset.with_views(*new) if new else dataset


def _instead(view: str) -> str:
    """What to use when a file view is missing."""
    if view in _DRUG_VIEW_OF.values():
        return "With SMILES in the drug table, compute the drug views instead: drug_features='smiles'"
    return "Train on the miRNA views that are there, e.g. mirna_views=['go'] (the sequence view)"


def _dataset_smiles(dataset: Dataset) -> list[str]:
    if "smiles" not in dataset.drugs.columns:
        raise DataError("the drug table has no SMILES column; SMILES-derived views cannot be computed",
                        file=dataset.source)
    return ["" if s is None or (isinstance(s, float) and np.isnan(s)) else str(s)
            for s in dataset.drugs["smiles"]]


def _drug_feature_views(dataset: Dataset, wanted: Sequence[str]) -> list[FeatureView]:
    computed = drug_views_from_smiles(_dataset_smiles(dataset), dataset.drug_names)
    views = []
    for name in wanted:
        matrix = computed[_DRUG_VIEW_OF[name]].astype(np.float64)
        note = _drug_agreement_note(dataset, name, matrix)
        views.append(FeatureView(name, "drug", matrix, source=f"computed from the SMILES of {dataset.source}",
                                 note=note))
    return views


def _drug_agreement(dataset: Dataset, name: str, matrix: np.ndarray) -> dict[str, object] | None:
    """How a SMILES-derived drug view compares with the file view it mirrors, when that is present."""
    base = dataset.views.get(_DRUG_VIEW_OF[name])
    if base is None or base.matrix.shape != matrix.shape:
        return None
    if name == "fingerprint_smiles":
        agree = fingerprint_agreement(base.matrix, matrix)
        worst = int(np.argmin(agree))
        return {"compared_with": base.name, "mean_bit_agreement": float(agree.mean()),
                "min_bit_agreement": float(agree[worst]), "worst_drug": dataset.drug_names[worst],
                "identical_rows": int((agree == 1).sum()), "rows": len(agree),
                "per_drug": dict(zip(dataset.drug_names, agree.round(4).tolist(), strict=True))}
    same = label_rows_reproduced(base.matrix, matrix)
    return {"compared_with": base.name, "rows_reproduced": int(same.sum()), "rows": len(same),
            "cell_agreement": float((base.matrix == matrix).mean())}


def _drug_agreement_note(dataset: Dataset, name: str, matrix: np.ndarray) -> str:
    a = _drug_agreement(dataset, name, matrix)
    if a is None:
        return ""
    if name == "fingerprint_smiles":
        return (f"agrees with {a['compared_with']} on {a['mean_bit_agreement']:.1%} of the 881 PubChem bits "
                f"(per drug: min {a['min_bit_agreement']:.1%} for {a['worst_drug']}, "
                f"{a['identical_rows']}/{a['rows']} identical)")
    return f"reproduces {a['rows_reproduced']}/{a['rows']} rows of {a['compared_with']} exactly"


def _sequence_view(dataset: Dataset, mirbase: Path | None) -> tuple[FeatureView, SequenceView]:
    """The ``sequence`` view: for benchmark miRNAs (by name) the one shipped in the package, unless a miRBase
    folder is given; otherwise computed from miRBase."""
    from ammgc.data.source import located_path

    # a miRBase copy given for the whole command (``located``) counts as given here
    mirbase = mirbase if mirbase is not None else located_path("mirbase")
    sequences = list(dataset.mirnas["sequence"]) if "sequence" in dataset.mirnas.columns else None
    go_present = "go" in dataset.views
    given = [s for s in sequences or () if isinstance(s, str) and s.strip()]
    if mirbase is None and not given:
        from ammgc.features.shipped import shipped_sequence_view

        shipped = shipped_sequence_view(dataset.mirna_names, go_present=go_present)
        if shipped is not None:
            return shipped
    return sequence_feature_view(dataset.mirna_names, sequences=sequences, mirbase=mirbase, go_present=go_present)


def describe_views(dataset: Dataset, *, mirbase: Path | None = None) -> dict[str, object]:
    """Every view of the dataset, file and computed, with shape, source and coverage or agreement.

    A computed view that cannot be built here (no miRBase, no SMILES) is listed with the reason.
    """
    rows: list[dict[str, object]] = [{**v.describe(), "kind": "file"} for v in dataset.views.values()]
    if "go" not in dataset.views:
        rows.append({"name": "go", "entity": "mirna", "shape": None, "kind": "file", "source": None,
                     "note": "absent: the miRNA 'sequence' view (miRBase) stands in for it"})
    out: dict[str, object] = {"source": dataset.source, "x_m2": go_view_name(dataset)}
    try:
        for view in _drug_feature_views(dataset, list(_DRUG_VIEW_OF)):
            rows.append({**view.describe(), "kind": "computed",
                         "agreement": _drug_agreement(dataset, view.name, view.matrix)})
    except AmmgcError as exc:
        rows.extend({"name": n, "entity": "drug", "shape": None, "kind": "computed", "source": None,
                     "note": f"not available: {exc}"} for n in _DRUG_VIEW_OF)
    try:
        view, built = _sequence_view(dataset, mirbase)
        rows.append({**view.describe(), "kind": "computed", "catalogue": built.mirbase,
                     "coverage": {"resolved": built.n_resolved, "total": len(built.resolutions),
                                  "by_rule": built.coverage_by_rule(), "unresolved": built.unresolved,
                                  "rows": [{"name": r.name, "rule": r.rule, "targets": list(r.targets)}
                                           for r in built.resolutions]}})
    except AmmgcError as exc:
        rows.append({"name": "sequence", "entity": "mirna", "shape": None, "kind": "computed", "source": None,
                     "note": f"not available: {exc}"})
    out["views"] = rows
    return out


def view_record(dataset: Dataset, name: str) -> dict[str, object]:
    """How one view was built, as a model file keeps it: source, input hashes, width and a hash of the matrix."""
    import hashlib
    import json

    from ammgc.data.dataset import cell_text

    view = dataset.view(name)
    record: dict[str, object] = {**view.describe(), "width": view.shape[1],
                                 "matrix_sha256": hashlib.sha256(np.ascontiguousarray(view.matrix, dtype=np.float64)
                                                                 .tobytes()).hexdigest()}
    if name in _DRUG_VIEW_OF:
        smiles = [cell_text(s) for s in dataset.drugs["smiles"]]
        record["recipe"] = ("PubChem 881-bit substructure fingerprint of each SMILES (scikit-fingerprints), "
                            "in the benchmark's 920-column layout" if name == "fingerprint_smiles" else
                            "85-character label encoding of each SMILES (ammgc.features.drug.LABEL_TABLE)")
        record["input_sha256"] = hashlib.sha256("\n".join(smiles).encode()).hexdigest()
    elif name == "sequence":
        from ammgc.features.mirna import SCORING, SIMILARITY_VERSION, catalogue_record, load_catalogue
        from ammgc.features.shipped import shipped_mirbase_record

        record["recipe"] = (f"{SIMILARITY_VERSION}: normalised Smith-Waterman similarity to every human "
                            f"stem-loop, scoring {SCORING}")
        # the benchmark's view ships: no miRBase needed
        record["mirbase"] = shipped_mirbase_record(view) or catalogue_record(load_catalogue())
        seqs = [cell_text(s) for s in dataset.mirnas["sequence"]] if "sequence" in dataset.mirnas else []
        record["input_sha256"] = hashlib.sha256(json.dumps([dataset.mirna_names, seqs]).encode()).hexdigest()
    else:
        record["recipe"] = "read from the dataset's file"
    return record
