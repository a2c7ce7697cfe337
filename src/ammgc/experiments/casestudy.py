"""The case study of the paper's Table 4: train on every association, list the top unobserved pairs.

Our top pairs are shown with names beside the paper's top 10, and each of the paper's pairs is located
in our full ranking (its rank among all unobserved pairs), so a reader sees at once which of the
paper's predictions we reproduce. Ranks follow ``ranking.rank_unobserved``, the order ``ammgc predict``
writes.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.experiments.external import fit_on_all, mean_scores, popularity_scores, rank_matrix
from ammgc.io import atomic_write_json, atomic_write_text, ensure_writable_dir
from ammgc.models.ammgc import AMMGC
from ammgc.paper import TABLE4
from ammgc.prediction.ranking import rank_unobserved, resolve_names
from ammgc.reporting.tables import table4_markdown


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (missing values as null) keeping scores to full precision: they crowd near 1."""
    return json.loads(table.to_json(orient="records", double_precision=15))


def locate_paper_pairs(dataset: Dataset, ranking: pd.DataFrame, top: int,
                       popularity_rank: np.ndarray | None = None) -> pd.DataFrame:
    """Each paper pair with our rank (among all unobserved pairs) and score, or why it has none; with
    ``popularity_rank`` (p x q), also the rank popularity gives it."""
    rank_of = {(d, m): (r, s) for r, d, m, s in ranking[["rank", "drug_index", "mirna_index", "score"]]
               .itertuples(index=False)}
    rows = []
    for pair in TABLE4:
        row: dict[str, Any] = {"paper_rank": pair.rank, "drug": pair.drug, "mirna": pair.mirna,
                               "evidence": pair.evidence, "our_rank": None, "our_score": None,
                               f"in_our_top_{top}": False, "status": "", "popularity_rank": None}
        try:
            drugs = resolve_names([pair.dataset_drug], dataset.drug_names, what="drug")
            mirnas = resolve_names([pair.mirna], dataset.mirna_names, what="miRNA")
        except AmmgcError:
            row["status"] = "not in this dataset"
            rows.append(row)
            continue
        found = [rank_of[(d, m)] for d in drugs for m in mirnas if (d, m) in rank_of]
        if not found:
            row["status"] = "known association in this dataset"
        else:
            rank, score = min(found)
            row.update(our_rank=int(rank), our_score=float(score), status="ranked")
            if popularity_rank is not None:
                row["popularity_rank"] = float(min(popularity_rank[d, m] for d in drugs for m in mirnas
                                                   if (d, m) in rank_of))
            row[f"in_our_top_{top}"] = rank <= top
        rows.append(row)
    return pd.DataFrame(rows)


def run_casestudy(model: AMMGC, dataset: Dataset, *, seed: int = 0, models: int = 1, top: int = 10,
                  out: str | os.PathLike[str] = "runs/casestudy", progress: bool = False) -> dict[str, Any]:
    """Train ``model`` on all associations (scores averaged over ``models`` seeds from ``seed``); write
    table4.md, top.csv (our top pairs) and paper_pairs.csv (the paper's top 10 in our ranking)."""
    if top < 1:
        raise AmmgcError("top must be at least 1")
    out = ensure_writable_dir(out)
    seeds = list(range(seed, seed + models))
    fitted, dataset, views = fit_on_all(model, dataset, seeds=seeds, progress=progress)
    ranking = rank_unobserved(dataset, mean_scores(fitted, dataset))
    popularity_rank, _ = rank_matrix(dataset, popularity_scores(dataset))
    paper = locate_paper_pairs(dataset, ranking, top, popularity_rank)
    paper_rank = {(p.dataset_drug.lower(), p.mirna.lower()): p.rank for p in TABLE4}
    ours = ranking.head(top).copy()
    ours["paper_rank"] = pd.array([paper_rank.get((d.lower(), m.lower()))
                                   for d, m in zip(ours["drug"], ours["mirna"], strict=True)], dtype="Int64")
    ours["popularity_rank"] = popularity_rank[ours["drug_index"].to_numpy(), ours["mirna_index"].to_numpy()]
    atomic_write_text(out / "top.csv", ours.to_csv(index=False))
    atomic_write_text(out / "paper_pairs.csv", paper.to_csv(index=False))
    shared = int(paper[f"in_our_top_{top}"].sum())
    atomic_write_text(out / "table4.md", table4_markdown(ours, paper, top=top, shared=shared,
                                                         n_associations=dataset.n_associations,
                                                         n_ranked=len(ranking), seeds=seeds,
                                                         config=model, views=views))
    body = {"data": dataset.source, "config": fitted[0].config_dict(), "views": views, "seeds": seeds, "top": top,
            "ours": _records(ours), "paper": _records(paper),
            "paper_pairs_in_our_top": shared}
    atomic_write_json(out / "casestudy.json", body)
    return body
