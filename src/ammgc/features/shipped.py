"""The benchmark miRNAs' ``sequence`` view as it ships in the package (``ammgc/data/derived/``), and the
recomputation of every shipped file (``ammgc data derive``).

``sequence-view.json`` and ``sequence-scores.npy`` hold the raw integer Smith-Waterman scores of each distinct
resolved stem-loop against every human stem-loop of miRBase release 22, their self-scores, each miRNA's
resolution and the columns' ids and hash. The view is rebuilt with the same float operations as
``ammgc.features.mirna`` computes it, bit for bit; it serves any dataset whose miRNAs are all benchmark miRNA
names without sequences of their own. ``derive`` recomputes the files from an ncDR table and a miRBase folder
and checks that the rebuilt view equals the computed one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ammgc.data.dataset import Dataset, FeatureView
from ammgc.data.derived import (
    FORMAT,
    PUBLICATIONS,
    SEQUENCE_SCORES,
    SEQUENCE_VIEW,
    SHIPPED,
    SHIPPED_DIRECTORY,
    SHIPPED_LOCATION,
    _dumps,
    derive_publications,
    read_shipped,
)
from ammgc.data.mirbase import MirbaseCatalogue
from ammgc.errors import DataError
from ammgc.features.mirna import (
    SCORING,
    SIMILARITY_VERSION,
    SequenceView,
    alignment_scores,
    assemble_rows,
    build_sequence_view,
    columns_sha256,
    normalised_similarity,
    self_scores,
)
from ammgc.features.names import Resolution, resolve_name
from ammgc.io import git_blob_sha1


def derive_sequence_view(dataset: Dataset, catalogue: MirbaseCatalogue) -> dict[str, bytes]:
    """``sequence-view.json`` and ``sequence-scores.npy`` for ``dataset``'s miRNAs (by name) from a miRBase
    catalogue; checked to rebuild exactly the view ``build_sequence_view`` computes."""
    names = dataset.mirna_names
    resolutions = [resolve_name(name, catalogue) for name in names]
    unique = sorted({s for r in resolutions for s in r.sequences})
    where = {s: k for k, s in enumerate(unique)}
    scores = alignment_scores(unique, catalogue.column_sequences, progress=False)
    if scores.size and (scores.min() < 0 or scores.max() > np.iinfo(np.uint16).max):
        raise DataError("Smith-Waterman scores outside 0..65535 cannot be stored", file=catalogue.directory)
    buffer = io.BytesIO()
    np.save(buffer, scores.astype(np.uint16), allow_pickle=False)
    scores_bytes = buffer.getvalue()
    described = catalogue.describe()
    meta = _dumps({
        "format": FORMAT,
        "about": "the benchmark miRNAs' `sequence` view (ammgc.features.mirna) as raw Smith-Waterman scores of "
                 "each distinct resolved stem-loop (rows of sequence-scores.npy) against every human stem-loop "
                 "of miRBase (columns), with self-scores; no sequence ships",
        "recipe": SIMILARITY_VERSION,
        "scoring": SCORING,
        "mirbase": {"current_release": described["current_release"],
                    "older_releases": described["older_releases"],
                    "human_stem_loops": described["human_stem_loops"], "aliases": described["aliases"],
                    "files": described["files"],
                    "columns_sha256": columns_sha256(catalogue.columns, catalogue.column_sequences)},
        "scores": {"file": SEQUENCE_SCORES, "blob_sha1": git_blob_sha1(scores_bytes)},
        "columns": list(catalogue.columns),
        "query_self": self_scores(unique).tolist(),
        "target_self": self_scores(catalogue.column_sequences).tolist(),
        "mirnas": [[r.name, r.rule, list(r.targets), [where[s] for s in r.sequences]] for r in resolutions],
    })
    rebuilt = sequence_view_from(meta, scores_bytes, names, where="derived")
    computed = build_sequence_view(names, catalogue, use_cache=False, progress=False)
    if rebuilt is None or not np.array_equal(rebuilt[1].matrix, computed.matrix):
        raise DataError("the stored scores do not rebuild the computed sequence view bit for bit",
                        file=catalogue.directory)
    return {SEQUENCE_VIEW: meta, SEQUENCE_SCORES: scores_bytes}


@lru_cache(maxsize=2)
def _parsed(meta: bytes, scores: bytes) -> tuple[dict[str, Any], np.ndarray, dict[str, int]]:
    record = json.loads(meta)
    if record["scores"]["blob_sha1"] != git_blob_sha1(scores):
        raise DataError("the sequence view's scores are not the ones its description was written with",
                        file=SEQUENCE_SCORES)
    matrix = np.load(io.BytesIO(scores), allow_pickle=False)
    return record, matrix, {row[0]: k for k, row in enumerate(record["mirnas"])}


def sequence_view_from(meta: bytes, scores: bytes, names: Sequence[str], *, where: str
                       ) -> tuple[FeatureView, SequenceView] | None:
    """The ``sequence`` view of miRNAs given by name from a ``sequence-view.json`` and its scores; None when a
    name is not among the miRNAs it holds."""
    record, raw, index = _parsed(meta, scores)
    if any(name not in index for name in names):
        return None
    rows = [record["mirnas"][index[name]] for name in names]
    needed = sorted({k for row in rows for k in row[3]})
    position = {k: i for i, k in enumerate(needed)}
    query_self = np.asarray(record["query_self"], dtype=np.int64)
    similarities = normalised_similarity(raw[needed], query_self[needed], np.asarray(record["target_self"]))
    matrix = assemble_rows(similarities, [[position[k] for k in row[3]] for row in rows])
    mirbase = {**record["mirbase"], "directory": where}
    built = SequenceView(matrix, tuple(record["columns"]),
                         tuple(Resolution(name, rule, tuple(targets)) for name, rule, targets, _ in rows),
                         mirbase, from_cache=False)
    older = mirbase["older_releases"]
    source = (f"computed from miRBase release {mirbase['current_release']} ({len(built.columns):,} human "
              f"stem-loops" + (f"; release {', '.join(older)} for renamed or removed names" if older else "")
              + f") and {where}")
    view = FeatureView("sequence", "mirna", matrix, source=source, blob_sha1=record["scores"]["blob_sha1"])
    return view, built


def shipped_sequence_view(names: Sequence[str], *, go_present: bool = False
                          ) -> tuple[FeatureView, SequenceView] | None:
    """The shipped ``sequence`` view of benchmark miRNAs (None when a name is not a benchmark miRNA)."""
    from dataclasses import replace

    found = sequence_view_from(read_shipped(SEQUENCE_VIEW), read_shipped(SEQUENCE_SCORES), names,
                               where=f"shipped in the package ({SHIPPED_LOCATION})")
    if found is None:
        return None
    view, built = found
    built = replace(built, mirbase={**built.mirbase, "directory": SHIPPED_DIRECTORY})
    return replace(view, note=built.note(go_present=go_present)), built


def shipped_mirbase_record(view: FeatureView) -> dict[str, Any] | None:
    """What a model file records about the miRBase behind a ``sequence`` view taken from the shipped file
    (release, stem-loops, files, columns hash); None for a view computed here."""
    if view.blob_sha1 != SHIPPED[SEQUENCE_SCORES]:
        return None
    record = json.loads(read_shipped(SEQUENCE_VIEW))
    return {**record["mirbase"], "directory": SHIPPED_DIRECTORY}


def derive(dataset: Dataset, *, ncdr: str | Path | None, catalogue: MirbaseCatalogue) -> dict[str, bytes]:
    """Every shipped file's content, recomputed from ncDR's table and a miRBase catalogue."""
    return {PUBLICATIONS: derive_publications(dataset, ncdr), **derive_sequence_view(dataset, catalogue)}


