"""Ranking unobserved drug-miRNA pairs by score: the output users take to the bench."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError

RANKING_COLUMNS = ("rank", "drug_index", "drug", "mirna_index", "mirna", "score")


def resolve_names(query: Sequence[str], names: Sequence[str], *, what: str) -> list[int]:
    """Indices of ``query`` names, matched case-insensitively; a name shared by several entries
    (the benchmark has two 'Rituximab') selects all of them. Unknown names raise an error that
    suggests the closest names."""
    def key_of(name: str) -> str:
        # one spelling of "é": precomposed (NFC) and decomposed (NFD) text look alike but compare unequal
        return unicodedata.normalize("NFC", name.strip()).lower()

    by_key: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_key.setdefault(key_of(name), []).append(i)
    out: list[int] = []
    for name in query:
        key = key_of(name)
        if key.isdigit() and key not in by_key:
            raise AmmgcError(f"unknown {what} {name!r}: give a name, not an index")
        if key not in by_key:
            close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(names[by_key[c][0]]) for c in close)}?" if close else ""
            raise AmmgcError(f"unknown {what} {name!r}{hint}")
        out.extend(i for i in by_key[key] if i not in out)
    return out


def rank_unobserved(dataset: Dataset, scores: np.ndarray, *, drugs: Sequence[int] | None = None,
                    mirnas: Sequence[int] | None = None, top: int | None = None) -> pd.DataFrame:
    """Every pair with no known association (optionally restricted to some drugs / miRNAs),
    sorted by score, highest first; ties broken by drug then miRNA index so the order is stable."""
    scores = np.asarray(scores)
    if scores.shape != dataset.associations.shape:
        raise AmmgcError(f"score matrix has shape {scores.shape}, expected {dataset.associations.shape}")
    mask = dataset.associations == 0
    if drugs is not None:
        keep = np.zeros(dataset.n_drugs, dtype=bool)
        keep[list(drugs)] = True
        mask &= keep[:, None]
    if mirnas is not None:
        keep = np.zeros(dataset.n_mirnas, dtype=bool)
        keep[list(mirnas)] = True
        mask &= keep[None, :]
    rows, cols = np.nonzero(mask)
    values = scores[rows, cols]
    order = np.lexsort((cols, rows, -values))
    if top is not None:
        order = order[:top]
    rows, cols, values = rows[order], cols[order], values[order]
    drug_names = np.asarray(dataset.drug_names, dtype=object)
    mirna_names = np.asarray(dataset.mirna_names, dtype=object)
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "drug_index": rows, "drug": drug_names[rows],
                         "mirna_index": cols, "mirna": mirna_names[cols], "score": values})


def rank(dataset: Dataset, scores: np.ndarray, *, drugs: Sequence[str] = (), mirnas: Sequence[str] = (),
         new_drugs: Sequence[int] = (), new_mirnas: Sequence[int] = (), top: int | None = None) -> pd.DataFrame:
    """Unobserved pairs by score. ``drugs`` / ``mirnas`` (names) restrict the ranking.

    With new drugs or miRNAs, only pairs involving one of them are ranked, one ranking per new entity (in the
    order given, new drugs first), so that a new drug's ranks do not depend on the other new drugs beside it:
    a new drug's ranking holds its pairs with every miRNA (new ones included), a new miRNA's its pairs with
    the known drugs (its pairs with new drugs are in their rankings); ``top`` applies to each.
    """
    drug_idx = resolve_names(drugs, dataset.drug_names, what="drug") if drugs else None
    mirna_idx = resolve_names(mirnas, dataset.mirna_names, what="miRNA") if mirnas else None
    if not new_drugs and not new_mirnas:
        return rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx, top=top)
    table = rank_unobserved(dataset, scores, drugs=drug_idx, mirnas=mirna_idx)
    new_drug_rows = table["drug_index"].isin(list(new_drugs)).to_numpy()
    groups = [table[new_drug_rows & (table["drug_index"] == i).to_numpy()] for i in new_drugs]
    groups += [table[~new_drug_rows & (table["mirna_index"] == j).to_numpy()] for j in new_mirnas]
    groups = [g.iloc[:top].assign(rank=np.arange(1, len(g.iloc[:top]) + 1)) for g in groups]
    return pd.concat(groups, ignore_index=True)
