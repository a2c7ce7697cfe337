"""Facts about the benchmark's own pairs and miRNAs, derived from ncDR and miRBase and shipped in the package,
so that the default model is the same model with or without network.

Three files under ``ammgc/data/derived/``, each xz-compressed and checked against its git blob SHA-1
(``SHIPPED``) before use:

* ``publications.json``: each of the 3,338 benchmark pairs' PubMed ids exactly as ``map_ncdr`` derives them
  from ncDR's curated miRNA table (identifiers only, none of ncDR's text), with the pairs it cannot map and
  why, the matching rules' counts and the table it was derived from (URL, git blob SHA-1).
* ``sequence-view.json`` and ``sequence-scores.npy``: the benchmark miRNAs' ``sequence`` view, stored as the
  raw integer Smith-Waterman scores of each distinct resolved stem-loop against every human stem-loop of
  miRBase release 22 (read and rebuilt by ``ammgc.features.shipped``; no miRBase sequence ships).

The publications attach to a loaded benchmark whose drug names, CIDs, miRNA names and pairs are the ones they
were derived for (``benchmark_identity``). ``ammgc.features.shipped.derive`` recomputes every file from an
ncDR table and a miRBase folder (``ammgc data derive``); ``write_derived`` writes them as they ship.
"""

from __future__ import annotations

import hashlib
import json
import lzma
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ammgc.errors import DataError
from ammgc.io import atomic_write_bytes, git_blob_sha1

if TYPE_CHECKING:
    from ammgc.data.dataset import Dataset
    from ammgc.data.publications import Publications

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
    from ammgc.data.ncdr import Ncdr, map_ncdr, read_ncdr

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


# --- deriving ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DerivedFile:
    """One derived file as written: its name, git blob SHA-1 and whether it equals the shipped copy."""

    name: str
    path: Path
    blob_sha1: str
    bytes: int
    same_as_shipped: bool


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
