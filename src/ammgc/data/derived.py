"""Facts about the benchmark's own pairs and miRNAs, derived from ncDR and miRBase and shipped in the package,
so that the default model is the same model with or without network.

Three files under ``ammgc/data/derived/``, each xz-compressed and checked against its git blob SHA-1
(``SHIPPED``) before use:

* ``publications.json``: each of the 3,338 benchmark pairs' PubMed ids exactly as ``map_ncdr`` derives them
  from ncDR's curated miRNA table (identifiers only, none of ncDR's text), with the pairs it cannot map and
  why, the matching rules' counts and the table it was derived from (URL, git blob SHA-1).
* ``sequence-view.json`` and ``sequence-scores.npy``: the benchmark miRNAs' ``sequence`` view, stored as the
  raw integer Smith-Waterman scores of each distinct resolved stem-loop against every human stem-loop of
  miRBase release 22, their self-scores, each miRNA's resolution and the columns' ids and hash. The view is
  rebuilt with the same float operations as ``ammgc.features.mirna`` computes it, bit for bit; no miRBase
  sequence ships.

The publications attach to a loaded benchmark whose drug names, CIDs, miRNA names and pairs are the ones they
were derived for (``benchmark_identity``); the view serves any dataset whose miRNAs are all benchmark miRNA
names without sequences of their own. ``derive`` recomputes the files from an ncDR table and a miRBase folder
and checks that the rebuilt view equals the computed one (``ammgc data derive``).
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ammgc.errors import DataError
from ammgc.io import atomic_write_bytes, git_blob_sha1

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset, FeatureView
    from ammgc.data.publications import Publications
    from ammgc.features.mirna import SequenceView
    from ammgc.features.names import MirbaseCatalogue

PUBLICATIONS = "publications.json"
SEQUENCE_VIEW = "sequence-view.json"
SEQUENCE_SCORES = "sequence-scores.npy"
#: git blob SHA-1 of each shipped file's decompressed content
SHIPPED: dict[str, str] = {
    PUBLICATIONS: "71d026a07fb44d4c2ed312a8fd1b47f3d44ce2a3",
    SEQUENCE_VIEW: "8e4a0296dc4e2190895b594281884c54f189460e",
    SEQUENCE_SCORES: "5c060a70f454af49d30e1c3d59d892a0bcb6e2bb",
}
FORMAT = 1
#: where the shipped view says it comes from (``FeatureView.source``)
SHIPPED_LOCATION = "ammgc/data/derived"
#: the miRBase "directory" of the shipped view, as a model file and ``ammgc features info`` show it
SHIPPED_DIRECTORY = f"{SHIPPED_LOCATION} (shipped in the package)"


def _packaged(name: str) -> Path:
    return Path(str(files("ammgc.data") / "derived" / f"{name}.xz"))


@lru_cache(maxsize=4)
def read_shipped(name: str) -> bytes:
    """A shipped file's content, verified against its pinned git blob SHA-1 (else DataError: reinstall)."""
    path = _packaged(name)
    try:
        data = lzma.decompress(path.read_bytes())
    except (OSError, lzma.LZMAError) as exc:
        raise DataError(f"the shipped derived data cannot be read ({exc}); reinstall ammgc", file=path) from None
    if (actual := git_blob_sha1(data)) != SHIPPED[name]:
        raise DataError(f"the shipped derived data is not the released file (git blob {actual}, expected "
                        f"{SHIPPED[name]}); reinstall ammgc", file=path)
    return data


def benchmark_identity(dataset: Dataset) -> str:
    """A hash of what ``map_ncdr`` reads from a dataset: drug names and CIDs, miRNA names, the pairs."""
    cids = [str(c) for c in dataset.drugs["cid"]] if "cid" in dataset.drugs else [""] * dataset.n_drugs
    payload = [dataset.drug_names, cids, dataset.mirna_names, dataset.positive_pairs().tolist()]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


# --- publications --------------------------------------------------------------------------------------------

def derive_publications(dataset: Dataset, table: str | Path | None = None) -> bytes:
    """``publications.json`` for ``dataset`` from ncDR's table (a file or a folder holding it; None: found as
    ``Ncdr`` finds it), which must be the published one (its git blob SHA-1)."""
    from ammgc.data.publications import Ncdr, map_ncdr, read_ncdr

    source = Ncdr(table)
    spec = source.files[0]
    path = source.file(source.resolve(), spec)
    blob = source.blob(path, spec)
    publications = map_ncdr(dataset, read_ncdr(path), source=str(path))
    return _dumps({
        "format": FORMAT,
        "about": "each benchmark pair's PubMed ids as ammgc maps them from ncDR's curated miRNA table "
                 "(ammgc.data.publications.map_ncdr); identifiers only",
        "source": {"table": spec.path, "url": spec.url, "blob_sha1": blob},
        "dataset": benchmark_identity(dataset),
        "kind": publications.kind,
        "pairs": publications.pairs.tolist(),
        "references": list(publications.references),
        "unmapped": [list(u) for u in publications.unmapped],
        "rules": publications.rules,
    })


def publications_from(data: bytes, dataset: Dataset, *, where: str) -> Publications | None:
    """The publications in a ``publications.json`` when it was derived for ``dataset`` (else None)."""
    from ammgc.data.publications import build_publications

    record = json.loads(data)
    if record["dataset"] != benchmark_identity(dataset):
        return None
    source = record["source"]
    reports = [[(int(p), p) for p in refs.split(";")] if refs else [] for refs in record["references"]]
    return build_publications(
        np.asarray(record["pairs"], dtype=np.int64).reshape(-1, 2), reports, kind=record["kind"],
        source=f"ncDR's {source['table']} ({_repository(source['url'])}, git blob {source['blob_sha1'][:10]}), "
               f"mapped to the benchmark's pairs and {where}",
        unmapped=tuple((int(d), int(m), str(r)) for d, m, r in record["unmapped"]), rules=record["rules"])


def _repository(url: str) -> str:
    """``owner/repo@commit`` of a raw.githubusercontent.com URL (the URL itself otherwise)."""
    import urllib.parse

    parsed = urllib.parse.urlparse(url)
    parts = parsed.path.split("/")
    if parsed.hostname == "raw.githubusercontent.com" and len(parts) > 4:
        return f"{parts[1]}/{parts[2]}@{parts[3][:7]}"
    return url


def shipped_publications(dataset: Dataset) -> Publications | None:
    """The shipped publications of the benchmark's pairs, when ``dataset`` is the benchmark they describe."""
    return publications_from(read_shipped(PUBLICATIONS), dataset, where="shipped in the package")


# --- the sequence view ---------------------------------------------------------------------------------------

def derive_sequence_view(dataset: Dataset, catalogue: MirbaseCatalogue) -> dict[str, bytes]:
    """``sequence-view.json`` and ``sequence-scores.npy`` for ``dataset``'s miRNAs (by name) from a miRBase
    catalogue; checked to rebuild exactly the view ``build_sequence_view`` computes."""
    from ammgc.features.mirna import (
        SCORING,
        SIMILARITY_VERSION,
        alignment_scores,
        build_sequence_view,
        self_scores,
    )
    from ammgc.features.names import resolve_name
    from ammgc.models.trained import _columns_sha256

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
                    "columns_sha256": _columns_sha256(catalogue.columns, catalogue.column_sequences)},
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
    from ammgc.data.dataset import FeatureView
    from ammgc.features.mirna import SequenceView, assemble_rows, normalised_similarity
    from ammgc.features.names import Resolution

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


# --- deriving ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DerivedFile:
    """One derived file as written: its name, git blob SHA-1 and whether it equals the shipped copy."""

    name: str
    path: Path
    blob_sha1: str
    bytes: int
    same_as_shipped: bool


def derive(dataset: Dataset, *, ncdr: str | Path | None, catalogue: MirbaseCatalogue) -> dict[str, bytes]:
    """Every shipped file's content, recomputed from ncDR's table and a miRBase catalogue."""
    return {PUBLICATIONS: derive_publications(dataset, ncdr), **derive_sequence_view(dataset, catalogue)}


def write_derived(derived: dict[str, bytes], out: str | Path) -> list[DerivedFile]:
    """Write the files xz-compressed into ``out`` (as they ship) and compare each with the shipped copy."""
    out = Path(out)
    written = []
    for name, data in derived.items():
        path = out / f"{name}.xz"
        atomic_write_bytes(path, lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
        blob = git_blob_sha1(data)
        written.append(DerivedFile(name, path, blob, len(data), blob == SHIPPED[name]))
    return written
