"""miRNA functional similarity from predicted targets: optional miRNA views beside the ``sequence`` view.

The TargetScan (``miRNANetS.txt``) and miRWalk (``miRNANetW.txt``) networks of SimNetRLMDA (commit
b4694a2), weighted edges ``miRNA<TAB>weight<TAB>miRNA`` between family-level names (``hsa-mir-21``,
``hsa-let-7a``). The paper's GO view is a similarity of target genes' GO annotations, so a target-based
similarity is a closer stand-in for it than sequence similarity. The repository carries no licence file,
so these are never shipped: they are downloaded on request (``ammgc data fetch --side``) and verified by
their git blob SHA-1. ``benchmarks/levers.py views`` measures them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc.data.dataset import FeatureView
from ammgc.data.source import DataSource, SourceFile

SIMNET_URL = "https://raw.githubusercontent.com/hauldhut/SimNetRLMDA/b4694a27b8a2742d355ec0373b069b352fbf3cdb/Data/"
#: view name -> network file
VIEWS = {"targets_s": "miRNANetS.txt", "targets_w": "miRNANetW.txt"}


def precursor_keys(name: str) -> list[str]:
    """A precursor name, then its family (the copy number dropped: hsa-mir-29b-1 -> hsa-mir-29b)."""
    name = name.lower() if name.lower().startswith("hsa-") else "hsa-" + name.lower()
    family = re.sub(r"(\d[a-z]?)-\d+$", r"\1", name)
    return [name] if family == name else [name, family]


def _network_key(name: str) -> str:
    return re.sub(r"-(5p|3p)$", "", name.lower())


class TargetNetworks(DataSource):
    """The two target-based similarity networks (a folder); ``load(names)`` gives one miRNA view per network."""

    title = "the target networks"
    cache_name = "side"
    env = "AMMGC_SIDE"
    not_found = "not a folder with miRNANetS.txt and miRNANetW.txt"
    fetch_command = "ammgc data fetch --side"
    files = (SourceFile("miRNANetS.txt", SIMNET_URL + "miRNANetS.txt", "a033367bf74a8fd5730f3e1c9a05cdde525292a1"),
             SourceFile("miRNANetW.txt", SIMNET_URL + "miRNANetW.txt", "9938143988c88e46f90c8891ac8428771277d7e9"))

    def usable(self, path: Path) -> bool:
        return self.complete(path)

    def load(self, mirna_names: Sequence[str]) -> list[FeatureView]:
        """Each miRNA's row of each network's similarity (max over edges, 1 on the diagonal), matched by its
        precursor name or family; unmatched miRNAs get the mean row of the matched ones, as in the
        ``sequence`` view."""
        root = self.resolve()
        specs = {f.path: f for f in self.files}
        views = []
        for view, file in VIEWS.items():
            path = root / file
            blob = self.blob(path, specs[file])
            edges = pd.read_csv(path, sep="\t", header=None, names=["a", "w", "b"])
            edges["a"], edges["b"] = edges["a"].map(_network_key), edges["b"].map(_network_key)
            columns = sorted(set(edges["a"]) | set(edges["b"]))
            index = {c: k for k, c in enumerate(columns)}
            similarity = np.eye(len(columns))
            for a, w, b in edges.itertuples(index=False):
                i, j = index[a], index[b]
                similarity[i, j] = similarity[j, i] = max(similarity[i, j], w)
            rows = np.zeros((len(mirna_names), len(columns)))
            mapped = np.zeros(len(mirna_names), dtype=bool)
            for r, name in enumerate(mirna_names):
                key = next((k for k in precursor_keys(name) if k in index), None)
                if key is not None:
                    rows[r], mapped[r] = similarity[index[key]], True
            rows[~mapped] = rows[mapped].mean(axis=0)
            views.append(FeatureView(view, "mirna", rows, source=str(path), blob_sha1=blob,
                                     note=f"{mapped.sum()} of {len(mirna_names)} miRNAs mapped onto {file}"))
        return views
