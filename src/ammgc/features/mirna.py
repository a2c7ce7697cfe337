"""miRNA views: the ``sequence`` view computed from miRBase (the files themselves: ``ammgc.data.mirbase``).

The paper's second miRNA view is a GO functional similarity (754 x 2,587), which cannot be obtained
here. The ``sequence`` view stands in for it with the same shape idea: one row per miRNA, one column
per reference RNA, each cell a similarity in [0, 1]. The reference set is every human stem-loop of
the current miRBase release (1,917 in release 22).

Similarity: normalised Smith-Waterman local alignment of stem-loop sequences,

    sim(a, b) = SW(a, b) / sqrt(SW(a, a) * SW(b, b)),

with BLASTN's default nucleotide scoring (match +2, mismatch -3, gap open 5, gap extend 2), computed
with parasail's SIMD aligner. Local alignment is the standard measure of miRNA sequence relatedness:
members of one family share the seed and much of the hairpin, so they score high, while unrelated
hairpins only share short chance matches (let-7a-1 scores 0.37-0.74 against the other let-7
stem-loops, while the median over all pairs is 0.08 and the 99th percentile about 0.14). The
normalisation makes identical sequences score 1 and keeps long hairpins from dominating. The
~715 distinct sequences of the benchmark x 1,917 stem-loops take about 13 s on one core; results
are cached under ``cache_dir()/views/``, keyed by a hash of every input (scoring, reference
sequences, each row's sequences).

A miRNA that resolves to several stem-loops (precursor copies, the precursors of a mature name)
gets the mean of their rows. Unresolved miRNAs get the mean of resolved rows, as the paper does for
missing features, and are listed in the view's note.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ammgc.data.dataset import FeatureView
from ammgc.data.mirbase import Mirbase, MirbaseCatalogue, clean_sequence
from ammgc.errors import DataError
from ammgc.features.names import RULES, Resolution, resolve_name, rule_family
from ammgc.io import atomic_open

SCORING = {"match": 2, "mismatch": -3, "gap_open": 5, "gap_extend": 2}  # BLASTN defaults
SIMILARITY_VERSION = "sw-normalised-v1"
_ALPHABET = "ACGUN"


def load_catalogue(mirbase: str | os.PathLike[str] | None = None) -> MirbaseCatalogue:
    """The miRBase catalogue of the resolved directory (``Mirbase.load``)."""
    return Mirbase(mirbase).load()


def columns_sha256(columns: Sequence[str], sequences: Sequence[str]) -> str:
    """A hash of the stem-loops a ``sequence`` view has as columns: equal hashes, comparable views."""
    return hashlib.sha256(json.dumps([list(columns), list(sequences)]).encode()).hexdigest()


def catalogue_record(catalogue: MirbaseCatalogue) -> dict[str, object]:
    """The miRBase files a ``sequence`` view was computed from, as a model keeps them."""
    return {**catalogue.describe(), "directory": str(catalogue.directory),
            "columns_sha256": columns_sha256(catalogue.columns, catalogue.column_sequences)}


def _scoring_matrix() -> object:
    import parasail

    matrix = parasail.matrix_create(_ALPHABET, SCORING["match"], SCORING["mismatch"])
    n = _ALPHABET.index("N")
    matrix.set_value(n, n, SCORING["mismatch"])  # an unknown base matches nothing, not even another N
    return matrix


def _self_score(seq: str, matrix: object) -> int:
    import parasail

    profile = parasail.profile_create_sat(seq, matrix)
    result = parasail.sw_striped_profile_sat(profile, seq, SCORING["gap_open"], SCORING["gap_extend"])
    return int(result.score)


def self_scores(sequences: Sequence[str]) -> np.ndarray:
    """The Smith-Waterman score of each sequence against itself (the normalisation's denominators)."""
    matrix = _scoring_matrix()
    return np.array([_self_score(s, matrix) for s in sequences], dtype=np.int64)


def alignment_scores(queries: Sequence[str], targets: Sequence[str], *, progress: bool = True) -> np.ndarray:
    """Raw Smith-Waterman scores (integers) of every query against every target (len(queries) x len(targets))."""
    import parasail
    from tqdm import tqdm

    matrix = _scoring_matrix()
    go, ge = SCORING["gap_open"], SCORING["gap_extend"]
    out = np.zeros((len(queries), len(targets)), dtype=np.int64)
    bar = tqdm(queries, desc="aligning to miRBase stem-loops", unit="miRNA",
               disable=not progress or len(queries) < 20, leave=False)
    for i, query in enumerate(bar):
        profile = parasail.profile_create_sat(query, matrix)
        out[i] = np.fromiter((parasail.sw_striped_profile_sat(profile, t, go, ge).score for t in targets),
                             dtype=np.int64, count=len(targets))
    return out


def normalised_similarity(scores: np.ndarray, query_self: np.ndarray, target_self: np.ndarray) -> np.ndarray:
    """sim(a, b) = SW(a, b) / sqrt(SW(a, a) * SW(b, b)) from raw scores, clipped to [0, 1].

    Element-wise IEEE operations only (each correctly rounded), so the same integers give the same bits on
    any machine: the package ships the benchmark's raw scores and rebuilds its view with this function.
    """
    norm = np.sqrt(np.asarray(query_self, dtype=np.float64)[:, None] * np.asarray(target_self, dtype=np.float64))
    scores = np.asarray(scores, dtype=np.float64)
    # an all-N sequence scores 0 even against itself, so it is similar to nothing
    out = np.divide(scores, norm, out=np.zeros_like(scores), where=norm > 0)
    return np.clip(out, 0.0, 1.0)


def similarity_rows(queries: Sequence[str], targets: Sequence[str], *, progress: bool = True) -> np.ndarray:
    """Normalised Smith-Waterman similarity of every query to every target (len(queries) x len(targets))."""
    return normalised_similarity(alignment_scores(queries, targets, progress=progress), self_scores(queries),
                                 self_scores(targets))


def assemble_rows(similarities: np.ndarray, rows: Sequence[Sequence[int]]) -> np.ndarray:
    """One row per miRNA from the similarity rows of its sequences (indices into ``similarities``): the mean of
    them, or, for a miRNA with none, the mean of the resolved miRNAs' rows."""
    matrix = np.zeros((len(rows), similarities.shape[1]), dtype=np.float64)
    resolved = np.array([bool(r) for r in rows])
    for i, where in enumerate(rows):
        if where:
            matrix[i] = similarities[list(where)].mean(axis=0)
    matrix[~resolved] = matrix[resolved].mean(axis=0)
    return matrix


@dataclass(frozen=True)
class SequenceView:
    """The sequence view's matrix with its columns, how each row was resolved and the miRBase files it was
    computed from (``MirbaseCatalogue.describe()``)."""

    matrix: np.ndarray
    columns: tuple[str, ...]
    resolutions: tuple[Resolution, ...]
    mirbase: dict[str, object]
    from_cache: bool

    @property
    def n_resolved(self) -> int:
        return len(self.resolutions) - len(self.unresolved)

    @property
    def unresolved(self) -> list[str]:
        # by rule, not by sequences: the shipped view keeps each miRNA's rule and targets but no sequence
        return [r.name for r in self.resolutions if r.rule == "unresolved"]

    def coverage_by_rule(self) -> dict[str, int]:
        counts = Counter(rule_family(r.rule) for r in self.resolutions)
        return {rule: counts[rule] for rule in RULES if counts[rule]}

    def coverage_text(self) -> str:
        by_rule = self.coverage_by_rule().items()
        rules = ", ".join(f"{rule} {n}" for rule, n in by_rule if rule != "unresolved")
        return f"{self.n_resolved}/{len(self.resolutions)} miRNAs resolved to miRBase ({rules})"

    def note(self, *, go_present: bool) -> str:
        """What the view is, what it stands in for and its coverage (the FeatureView's note)."""
        role = ("computed from miRBase (the GO view is present and remains X_m2)" if go_present else
                "STANDS IN FOR the GO functional similarity view "
                "(features/ncrna_GOsimilarity_full.txt is absent)")
        note = (f"{role}; normalised Smith-Waterman similarity to the {len(self.columns)} human stem-loops of "
                f"miRBase release {self.mirbase['current_release']}; {self.coverage_text()}")
        unresolved = self.unresolved
        if unresolved:
            note += (f"; {len(unresolved)} unresolved rows set to the mean of resolved rows: "
                     f"{', '.join(unresolved)}")
        return note


def _cache_key(columns: Sequence[str], column_seqs: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    payload = json.dumps({"version": SIMILARITY_VERSION, "scoring": SCORING, "columns": list(columns),
                          "column_sequences": list(column_seqs), "rows": [list(r) for r in rows]},
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _cache_path(key: str) -> Path:
    from ammgc.data import cache_dir

    return cache_dir() / "views" / f"sequence-{key[:32]}.npz"


def _read_cache(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached matrix, or None when absent or unusable (it is then recomputed and rewritten)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            matrix = np.asarray(archive["matrix"], dtype=np.float64)
    except (OSError, ValueError, KeyError):
        return None
    if matrix.shape != shape or not np.isfinite(matrix).all():
        return None
    return matrix


def build_sequence_view(names: Sequence[str], catalogue: MirbaseCatalogue, *,
                        sequences: Sequence[str | None] | None = None, use_cache: bool = True,
                        progress: bool = True) -> SequenceView:
    """The sequence view of miRNAs given by name (and optionally by their own sequence).

    A given sequence (a bring-your-own miRNA table's ``sequence`` column) wins over the name;
    otherwise the name is resolved against miRBase (see ``ammgc.features.names``).
    """
    resolutions: list[Resolution] = []
    for i, name in enumerate(names):
        given = sequences[i] if sequences is not None else None
        if given is not None and str(given).strip():
            seq = clean_sequence(str(given), what=f"miRNA {name!r}")
            resolutions.append(Resolution(str(name), "given sequence", (), (seq,)))
        else:
            resolutions.append(resolve_name(str(name), catalogue))
    if not any(r.resolved for r in resolutions):
        raise DataError(f"none of the {len(resolutions)} miRNA names could be resolved to miRBase "
                        f"(directory {catalogue.directory}); the sequence view cannot be built")
    columns, column_seqs = catalogue.columns, catalogue.column_sequences
    rows = [r.sequences for r in resolutions]
    key = _cache_key(columns, column_seqs, rows)
    path = _cache_path(key)
    shape = (len(resolutions), len(columns))
    matrix = _read_cache(path, shape) if use_cache else None
    from_cache = matrix is not None
    if matrix is None:
        unique = sorted({s for r in rows for s in r})
        where = {s: k for k, s in enumerate(unique)}
        matrix = assemble_rows(similarity_rows(unique, column_seqs, progress=progress),
                               [[where[s] for s in r] for r in rows])
        if use_cache:
            try:
                with atomic_open(path, "wb") as handle:
                    np.savez_compressed(handle, matrix=matrix, columns=np.array(columns))
            except OSError:
                pass  # the cache is best-effort: a full or read-only disk only costs the next run the alignments
    return SequenceView(matrix, columns, tuple(resolutions), catalogue.describe(), from_cache)


def mirna_sequence_row(sequence: str, *, mirbase: Path | None = None) -> np.ndarray:
    """The sequence-view row (1 x number of human stem-loops) of a new miRNA given its sequence.

    Accepts a stem-loop or a mature sequence (A, C, G, U or T, any case; T is read as U). A
    sequence found inside human stem-loops of miRBase and shorter than them is a mature product:
    like a mature name, it gets the mean row of those stem-loops. Anything else is aligned as given.
    """
    seq = clean_sequence(sequence, what="miRNA sequence")
    catalogue = load_catalogue(mirbase)
    hosts = [s for s in catalogue.column_sequences if seq in s and len(s) > len(seq)]
    queries = hosts or [seq]
    return similarity_rows(queries, catalogue.column_sequences, progress=False).mean(axis=0, keepdims=True)


def sequence_feature_view(names: Sequence[str], *, sequences: Sequence[str | None] | None = None,
                          mirbase: Path | None = None, go_present: bool = False
                          ) -> tuple[FeatureView, SequenceView]:
    """The ``sequence`` FeatureView for the given miRNAs, with a note on what it is and its coverage."""
    catalogue = load_catalogue(mirbase)
    built = build_sequence_view(names, catalogue, sequences=sequences)
    view = FeatureView("sequence", "mirna", built.matrix,
                       source=f"miRBase {catalogue.directory} (release {catalogue.current.label})",
                       note=built.note(go_present=go_present))
    return view, built
