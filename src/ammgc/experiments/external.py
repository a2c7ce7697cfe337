"""External validation: where do independently reported (drug, miRNA) pairs fall in our ranking?

A model is trained on every known association (or its ranking is read from an ``ammgc predict``
file), every unobserved pair is ranked, and the given pairs are located in that ranking. The same
numbers are computed for ``popularity`` (degree product), the baseline any ranking must beat.

Ranks are 1-based among the dataset's unobserved pairs; tied scores share their average rank, so a
ranking with many ties (popularity, or pairs missing from a top-N predictions file) is neither
favoured nor penalised by an arbitrary tie order. AMMGC scores have practically no ties, so its ranks
equal the ``rank`` column ``ammgc predict`` writes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score
from tqdm.auto import tqdm

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.data.validation import is_number, read_text
from ammgc.errors import AmmgcError, DataError
from ammgc.prediction.ranking import RANKING_COLUMNS, resolve_names

HITS_AT = (50, 100, 1000)


# --- training on every known association -------------------------------------------------------------

def fit_on_all(method: Any, dataset: Dataset, *, seeds: Sequence[int] = (0,), progress: bool = False
               ) -> tuple[list[Any], Dataset, dict[str, Any] | None]:
    """Fit a copy of ``method`` on every association of ``dataset`` once per seed. Returns the fitted models,
    the dataset with what they read (their views), and the record of those views (which says whether the
    ``sequence`` view stood in for GO)."""
    from ammgc.runtime import torch_threads, training_threads

    if not seeds:
        raise AmmgcError("the number of models must be at least 1")
    dataset = methods.prepare(method, dataset)
    views = methods.inputs(method, dataset)
    # One thread (or AMMGC_THREADS), as `ammgc predict`: the thread count changes float rounding, and a
    # fixed seed must give a fixed ranking; on a busy machine more threads were also several times slower.
    models = []
    with torch_threads(training_threads()):
        for seed in tqdm(list(seeds), desc=f"training {methods.label(method)} on all associations", unit="model",
                         disable=not progress):
            models.append(methods.fit_method(methods.clone(method), dataset, dataset.associations, seed=seed))
    return models, dataset, views


def mean_scores(models: Sequence[Any], dataset: Dataset) -> np.ndarray:
    """The models' score matrices averaged (an ensemble over seeds steadies the top of the ranking)."""
    return np.mean([methods.scores_of(m, dataset) for m in models], axis=0)


# --- reading the inputs ---------------------------------------------------------------------------------

def _read_csv(path: Path) -> pd.DataFrame:
    text = read_text(path)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"not a readable CSV file: {exc}", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table


def _index_cell(value: str, limit: int, *, what: str, path: Path, row: int, column: str) -> int:
    text = value.strip()
    # int() would also take "0_0", "9_0" (as 90) and non-ASCII digits: an index is plain ASCII digits
    if not (text.isascii() and text.isdigit()):
        raise DataError(f"{what} index {value!r} is not an integer", file=path, row=row, column=column)
    index = int(text)
    if not 0 <= index < limit:
        raise DataError(f"{what} index {index} is out of range 0..{limit - 1}", file=path, row=row, column=column)
    return index


def read_pairs(path: str | os.PathLike[str], dataset: Dataset) -> pd.DataFrame:
    """The pairs of a CSV file as (row, drug_index, mirna_index), one line per resolved pair.

    Each entity is given by name (columns ``drug`` / ``mirna``, case-insensitive) or by 0-based index
    (``drug_index`` / ``mirna_index``, which win when both are present, as in a predictions file). A
    name shared by several entries (the benchmark lists ``Rituximab`` twice) stands for all of them.
    Rows are numbered as in a text editor (the header is row 1).
    """
    path = Path(path)
    table = _read_csv(path)
    entities = {}
    for entity, n, names in (("drug", dataset.n_drugs, dataset.drug_names),
                             ("mirna", dataset.n_mirnas, dataset.mirna_names)):
        if f"{entity}_index" in table.columns:
            entities[entity] = (f"{entity}_index", n, None)
        elif entity in table.columns:
            entities[entity] = (entity, n, names)
        else:
            raise DataError(f"needs a column '{entity}' (names) or '{entity}_index' (0-based indices); "
                            f"found columns {list(table.columns)}", file=path, row=1)
    if table.empty:
        raise DataError("has a header but no pairs", file=path)
    rows: list[tuple[int, int, int]] = []
    for i, record in enumerate(table.to_dict("records")):
        row = i + 2
        resolved: dict[str, list[int]] = {}
        for entity, (column, n, names) in entities.items():
            value = str(record[column]).strip()
            if not value:
                raise DataError(f"empty {entity}", file=path, row=row, column=column)
            if names is None:
                resolved[entity] = [_index_cell(value, n, what=entity, path=path, row=row, column=column)]
            else:
                try:
                    resolved[entity] = resolve_names([value], names, what="miRNA" if entity == "mirna" else entity)
                except AmmgcError as exc:
                    raise DataError(str(exc), file=path, row=row, column=column) from None
        rows.extend((row, d, m) for d in resolved["drug"] for m in resolved["mirna"])
    return pd.DataFrame(rows, columns=["row", "drug_index", "mirna_index"])


def read_predictions(path: str | os.PathLike[str], dataset: Dataset) -> tuple[np.ndarray, int]:
    """A score matrix from an ``ammgc predict`` file (columns rank, drug_index, drug, mirna_index, mirna,
    score), and how many unobserved pairs it lists.

    Pairs it does not list (a top-N file) are scored below every listed pair, all tied. Names, where
    given, must match the dataset's names at those indices: a file made on another dataset is an error.
    """
    path = Path(path)
    table = _read_csv(path)
    missing = [c for c in ("drug_index", "mirna_index", "score") if c not in table.columns]
    if missing:
        raise DataError(f"missing column(s) {missing}; expected {', '.join(RANKING_COLUMNS)} "
                        f"(the format `ammgc predict` writes)", file=path, row=1)
    if table.empty:
        raise DataError("has a header but no predictions", file=path)
    drug_names, mirna_names = dataset.drug_names, dataset.mirna_names
    scores = np.full(dataset.associations.shape, np.nan)
    for i, record in enumerate(table.to_dict("records")):
        row = i + 2
        d = _index_cell(record["drug_index"], dataset.n_drugs, what="drug", path=path, row=row, column="drug_index")
        m = _index_cell(record["mirna_index"], dataset.n_mirnas, what="miRNA", path=path, row=row,
                        column="mirna_index")
        for column, expected in (("drug", drug_names[d]), ("mirna", mirna_names[m])):
            given = record.get(column)
            if given is not None and given.strip().lower() != expected.strip().lower():
                raise DataError(f"{column} {given!r} does not match {expected!r} at that index in the dataset; "
                                f"were the predictions made on another dataset?", file=path, row=row, column=column)
        if not is_number(record["score"]):  # float() would also take "1_0" and non-ASCII digits
            raise DataError(f"score {record['score']!r} is not a number", file=path, row=row, column="score")
        value = float(record["score"])
        if not np.isfinite(value):
            raise DataError("score is not finite", file=path, row=row, column="score")
        if not np.isnan(scores[d, m]):
            raise DataError(f"pair ({drug_names[d]}, {mirna_names[m]}) is listed twice", file=path, row=row)
        scores[d, m] = value
    unobserved = dataset.associations == 0
    listed = int((~np.isnan(scores) & unobserved).sum())
    if listed == 0:
        raise DataError("lists no pair that is unobserved in the dataset", file=path)
    floor = np.nanmin(scores[unobserved]) - 1.0
    return np.where(np.isnan(scores), floor, scores), listed


# --- the evaluation ---------------------------------------------------------------------------------------

@dataclass
class RankingEvaluation:
    """Metrics of one ranking at the given pairs, with each pair's rank and per-drug counts."""

    label: str
    metrics: dict[str, float]
    pairs: pd.DataFrame
    per_drug: pd.DataFrame


def rank_matrix(dataset: Dataset, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks (1 = best, ties averaged) of every unobserved pair overall and within its drug; NaN for
    known associations."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != dataset.associations.shape:
        raise AmmgcError(f"score matrix has shape {scores.shape}, expected {dataset.associations.shape}")
    unobserved = dataset.associations == 0
    overall = np.full(scores.shape, np.nan)
    overall[unobserved] = rankdata(-scores[unobserved], method="average")
    within = np.full(scores.shape, np.nan)
    for d in range(dataset.n_drugs):
        cols = np.flatnonzero(unobserved[d])
        if len(cols):
            within[d, cols] = rankdata(-scores[d, cols], method="average")
    return overall, within


def evaluate_ranking(dataset: Dataset, pairs: pd.DataFrame, scores: np.ndarray, *, label: str) -> RankingEvaluation:
    """Rank-based metrics of ``scores`` at the evaluated pairs (``pairs`` with status ``evaluated``).

    The negatives are every other unobserved pair, so AUC is the probability that a given pair outranks
    a random unobserved one, and average precision is that of retrieving the given pairs from the full
    ranking.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores[dataset.associations == 0]).all():
        raise AmmgcError(f"{label}: scores contain NaN or infinity")
    overall, within = rank_matrix(dataset, scores)
    evaluated = pairs[pairs["status"] == "evaluated"]
    d, m = evaluated["drug_index"].to_numpy(), evaluated["mirna_index"].to_numpy()
    unobserved = dataset.associations == 0
    n_unobserved = int(unobserved.sum())
    ranks = overall[d, m]
    labels = np.zeros(dataset.associations.shape, dtype=np.int8)
    labels[d, m] = 1
    y_true, y_score = labels[unobserved], scores[unobserved]
    n = len(ranks)
    metrics: dict[str, float] = {"pairs": n, "unobserved_pairs": n_unobserved,
                                 "auc": float(roc_auc_score(y_true, y_score)),
                                 "ap": float(average_precision_score(y_true, y_score)),
                                 "ap_random": n / n_unobserved}
    for k in HITS_AT:
        metrics[f"hits@{k}"] = int((ranks <= k).sum())
        metrics[f"hits@{k}_random"] = k * n / n_unobserved
    metrics["median_rank"] = float(np.median(ranks))
    metrics["mean_rank"] = float(np.mean(ranks))
    per_pair = pairs.copy()
    all_d, all_m = pairs["drug_index"].to_numpy(), pairs["mirna_index"].to_numpy()
    counted = (pairs["status"] == "evaluated").to_numpy()
    per_pair[f"{label}_rank"] = np.where(counted, overall[all_d, all_m], np.nan)
    per_pair[f"{label}_rank_within_drug"] = np.where(counted, within[all_d, all_m], np.nan)
    per_pair[f"{label}_score"] = scores[all_d, all_m]
    drugs = pd.DataFrame({"drug_index": d, "rank": ranks, "within": within[d, m]})
    per_drug = drugs.groupby("drug_index").agg(
        pairs=("rank", "size"), **{f"hits@{k}": ("rank", lambda r, k=k: int((r <= k).sum())) for k in HITS_AT},
        best_rank=("rank", "min"), median_rank=("rank", "median"),
        median_rank_within_drug=("within", "median")).reset_index()
    per_drug.insert(1, "drug", [dataset.drug_names[i] for i in per_drug["drug_index"]])
    per_drug.insert(3, "unobserved_for_drug", unobserved[per_drug["drug_index"].to_numpy()].sum(axis=1))
    return RankingEvaluation(label, metrics, per_pair, per_drug)


def classify_pairs(dataset: Dataset, pairs: pd.DataFrame) -> pd.DataFrame:
    """Mark each resolved pair ``evaluated``, ``known`` (already an association: excluded) or ``duplicate``."""
    out = pairs.copy()
    out.insert(2, "drug", [dataset.drug_names[i] for i in out["drug_index"]])
    out.insert(4, "mirna", [dataset.mirna_names[i] for i in out["mirna_index"]])
    known = dataset.associations[out["drug_index"].to_numpy(), out["mirna_index"].to_numpy()] == 1
    duplicate = out.duplicated(["drug_index", "mirna_index"]).to_numpy()
    out["status"] = np.where(known, "known", np.where(duplicate, "duplicate", "evaluated"))
    return out


def popularity_scores(dataset: Dataset) -> np.ndarray:
    from ammgc.baselines.popularity import Popularity

    return Popularity().fit(dataset).predict_scores()


# --- the command ------------------------------------------------------------------------------------------

def _model_file_scores(path: str | os.PathLike[str], dataset: Dataset | None) -> tuple[Dataset, np.ndarray, str]:
    """The dataset and stored scores of an ``ammgc train`` model file, and its views note."""
    from ammgc.models.ammgc import AMMGC
    from ammgc.prediction.new_entities import check_dataset
    from ammgc.reporting.tables import views_note

    model = AMMGC.load(path)
    if dataset is not None:
        check_dataset(model, dataset)
    views = {"drug": model.drug_views, "mirna": model.mirna_views, "go_substitute": "sequence" in model.mirna_views}
    return dataset or model.dataset_, np.asarray(model.predict_scores(), dtype=np.float64), views_note(views)


EVALUATION_OUTPUTS = ("evaluation.json", "evaluation.md", "pairs.csv", "per_drug.csv")


def run_evaluate_ranking(pairs: str | os.PathLike[str], dataset: Dataset | None = None, *,
                         predictions: str | os.PathLike[str] | None = None,
                         model_file: str | os.PathLike[str] | None = None, method: Any = None, seed: int = 0,
                         models: int = 1, out: str | os.PathLike[str] = "runs/evaluate-ranking",
                         progress: bool = False) -> dict[str, Any]:
    """Evaluate a ranking (read from ``predictions``, from a saved ``model_file``, or from ``method``, default
    AMMGC, trained here on every association) and popularity at ``pairs``; write evaluation.json,
    evaluation.md, pairs.csv and per_drug.csv to ``out``. ``dataset`` defaults to the benchmark (to the model's
    own with a model file)."""
    from ammgc.data import load_dataset
    from ammgc.io import atomic_write_json, atomic_write_text, check_output_file, ensure_writable_dir
    from ammgc.reporting.tables import evaluation_markdown, views_note

    if predictions is not None and model_file is not None:
        raise AmmgcError("give either a predictions file or a model file, not both")
    out = ensure_writable_dir(out)
    inputs = [pairs, predictions, model_file, dataset.source if dataset is not None else None]
    for name in EVALUATION_OUTPUTS:
        check_output_file(Path(out) / name, option=f"out (its {name})", inputs=inputs)
    views = None
    method = method if method is not None else methods.get("ammgc")
    if model_file is not None:
        dataset, scores, note = _model_file_scores(model_file, dataset)
        label, source = "model", f"model file {model_file}"
    elif dataset is None:
        dataset = load_dataset()
    resolved = classify_pairs(dataset, read_pairs(pairs, dataset))
    if not (resolved["status"] == "evaluated").any():
        raise DataError("every pair is already a known association of the dataset; nothing to evaluate", file=pairs)
    if predictions is not None:
        scores, listed = read_predictions(predictions, dataset)
        label = "predictions"
        source = f"{predictions} ({listed:,} unobserved pairs listed)"
        note = "Views: as used by the model that wrote the predictions file."
    elif model_file is None:
        fitted, _, views = fit_on_all(method, dataset, seeds=range(seed, seed + models), progress=progress)
        scores = mean_scores(fitted, dataset)
        label = methods.label(method)
        source = f"{label} trained on all {dataset.n_associations:,} associations" + (
            f", mean of {models} models (seeds {seed}..{seed + models - 1})" if models > 1 else f", seed {seed}")
        note = views_note(views)
    results = [evaluate_ranking(dataset, resolved, scores, label=label),
               evaluate_ranking(dataset, resolved, popularity_scores(dataset), label="popularity")]
    extra = [c for c in results[1].pairs.columns if c not in resolved.columns]
    table = pd.concat([results[0].pairs, results[1].pairs[extra]], axis=1)
    atomic_write_text(out / "pairs.csv", table.to_csv(index=False))
    per_drug = results[0].per_drug.merge(results[1].per_drug.drop(columns=["drug", "pairs", "unobserved_for_drug"]),
                                         on="drug_index", suffixes=(f"_{label}", "_popularity"))
    atomic_write_text(out / "per_drug.csv", per_drug.to_csv(index=False))
    atomic_write_text(out / "evaluation.md", evaluation_markdown(results, resolved, hits_at=HITS_AT, source=source,
                                                                 note=note))
    body = {"pairs_file": str(pairs), "data": dataset.source or dataset.name, "scores": source, "views": views,
            "config": methods.params_of(method) if model_file is None and predictions is None else {},
            "counts": resolved["status"].value_counts().to_dict(),
            "results": {r.label: r.metrics for r in results}}
    atomic_write_json(out / "evaluation.json", body)
    return body
