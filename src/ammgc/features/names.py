"""miRBase catalogue (stem-loop and mature FASTA of one or more releases) and miRNA name resolution.

Benchmark miRNA names are a mix of miRBase conventions of different years. ``resolve_name`` maps a
name to one or more stem-loop sequences by the first of these rules that applies (``RULES``):

1. ``exact`` / ``case``: the stem-loop id of the current release, as written or ignoring case
   (``hsa-miR-21`` -> ``hsa-mir-21``).
2. ``copies``: a family name without a copy number -> all its precursor copies
   (``hsa-mir-125b`` -> ``hsa-mir-125b-1``, ``hsa-mir-125b-2``).
3. ``mature``: a mature miRNA id -> the stem-loops of the same species that contain its sequence
   (``hsa-miR-138-5p`` -> ``hsa-mir-138-1``, ``hsa-mir-138-2``).
4. ``release N``: rules 1-3 in an older release found beside the current one (e.g. release 21), for
   names since removed or renamed; the older sequence is used.
5. ``alias``: a previous miRBase id listed in miRBase's ``aliases.txt``, when that file is present.
6. ``species prefix``: a name without a species prefix (``miR-128b``) or with a non-human one
   (``mmu-mir-20b``) whose own id is not in the files -> the human name, then rules 1-5.
7. ``copy number``: a copy number that does not exist (``hsa-mir-29b-3``) -> the family's copies
   (copies of one family encode the same mature miRNA).

Names matching none are ``unresolved``.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ammgc.errors import DataError

RULES: dict[str, str] = {
    "given sequence": "sequence given in the dataset's miRNA table",
    "exact": "stem-loop id of the current miRBase release",
    "case": "stem-loop id ignoring case (mir/miR)",
    "copies": "family name -> all precursor copies (-1, -2, ...)",
    "mature": "mature miRNA name -> the stem-loop(s) containing it",
    "release": "found only in an older miRBase release (its sequence is used)",
    "alias": "previous miRBase id (aliases.txt)",
    "species prefix": "missing or non-human species prefix -> human name",
    "copy number": "non-existent copy number -> the family's copies",
    "unresolved": "no rule applies; the row is the mean of resolved rows",
}

_IUPAC_AMBIGUOUS = set("RYKMSWBDHVN")
_FASTA_SUFFIXES = (".fa", ".fa.gz", ".fasta", ".fasta.gz")
_PREFIXLESS = re.compile(r"^(mir|let|lin)-", re.IGNORECASE)
_SPECIES = re.compile(r"^([a-z]{2,5})-((?:mir|let|lin)-.+)$", re.IGNORECASE)
# species-family-name-copy: the family part keeps its own number (hsa-mir-1-1 -> hsa-mir-1)
_COPY = re.compile(r"^([^-]+-[^-]+-[^-]+(?:-[^-]+)*?)-(\d+)$")


def clean_sequence(sequence: str, *, what: str) -> str:
    """Upper-case RNA of a user-given sequence; only A, C, G, U, T (T -> U) are accepted."""
    seq = "".join(str(sequence).split()).upper()
    if not seq:
        raise DataError(f"{what}: empty sequence")
    bad = sorted(set(seq) - set("ACGUT"))
    if bad:
        raise DataError(f"{what}: sequence has characters other than A, C, G, U, T: {''.join(bad)}")
    return seq.replace("T", "U")


def read_fasta(path: Path) -> dict[str, tuple[str, str]]:
    """id -> (accession, RNA sequence) of a miRBase FASTA file (plain or .gz, any line wrapping).

    DNA letters become RNA; IUPAC ambiguity codes become N; anything else is a DataError.
    """
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("ascii")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataError(f"unreadable FASTA file ({type(exc).__name__}: {exc})", file=path) from None
    records: dict[str, tuple[str, str]] = {}
    current: str | None = None
    accession = ""
    chunks: list[str] = []

    def flush() -> None:
        if current is not None:
            if not chunks:
                raise DataError(f"record {current!r} has no sequence", file=path)
            records[current] = (accession, "".join(chunks))

    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            flush()
            fields = line[1:].split()
            if not fields:
                raise DataError("FASTA header without an id", file=path, row=number)
            current, accession, chunks = fields[0], fields[1] if len(fields) > 1 else "", []
            if current in records:
                raise DataError(f"duplicate FASTA id {current!r}", file=path, row=number)
            continue
        if current is None:
            raise DataError("sequence line before the first '>' header; is this a FASTA file?",
                            file=path, row=number)
        seq = line.upper().replace("T", "U")
        bad = set(seq) - set("ACGU") - _IUPAC_AMBIGUOUS
        if bad:
            raise DataError(f"not a nucleotide sequence (characters {''.join(sorted(bad))})",
                            file=path, row=number)
        chunks.append("".join("N" if c in _IUPAC_AMBIGUOUS else c for c in seq))
    flush()
    if not records:
        raise DataError("no FASTA records", file=path)
    return records


def species_of(mirna_id: str) -> str:
    return mirna_id.split("-", 1)[0].lower()


@dataclass(frozen=True, eq=False)
class Release:
    """Stem-loops (and, when present, mature miRNAs) of one miRBase release, all species in its files."""

    label: str
    hairpins: dict[str, str]
    matures: dict[str, str] = field(default_factory=dict)
    hairpin_accessions: dict[str, str] = field(default_factory=dict)
    mature_accessions: dict[str, str] = field(default_factory=dict)

    @cached_property
    def _hairpin_lower(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for mid in sorted(self.hairpins):
            index[mid.lower()].append(mid)
        return dict(index)

    @cached_property
    def _families(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for mid in sorted(self.hairpins):
            m = _COPY.match(mid.lower())
            if m:
                index[m.group(1)].append(mid)
        return dict(index)

    @cached_property
    def _mature_lower(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for mid in sorted(self.matures):
            index[mid.lower()].append(mid)
        return dict(index)

    def precursors_of(self, mature_id: str) -> list[str]:
        """Stem-loops of the mature's species whose sequence contains the mature sequence."""
        seq, species = self.matures[mature_id], species_of(mature_id)
        return sorted(h for h, s in self.hairpins.items() if species_of(h) == species and seq in s)

    def lookup(self, name: str) -> tuple[str, list[str]] | None:
        """(rule, stem-loop ids) by the exact, case, copies and mature rules, or None."""
        key = name.lower()
        if name in self.hairpins:
            return "exact", [name]
        if key in self._hairpin_lower:
            return "case", self._hairpin_lower[key]
        if key in self._families:
            return "copies", self._families[key]
        for mature in self._mature_lower.get(key, []):
            precursors = self.precursors_of(mature)
            if precursors:
                return "mature", precursors
        return None

    def family(self, base: str) -> list[str]:
        return self._families.get(base.lower(), [])


@dataclass(frozen=True, eq=False)
class MirbaseCatalogue:
    """The miRBase files of one directory: releases newest first, optional aliases, file hashes."""

    directory: Path
    releases: tuple[Release, ...]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    file_hashes: tuple[tuple[str, str], ...] = ()

    @property
    def current(self) -> Release:
        return self.releases[0]

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The human stem-loop ids of the current release, sorted: the columns of the sequence view."""
        return tuple(sorted(h for h in self.current.hairpins if species_of(h) == "hsa"))

    @cached_property
    def column_sequences(self) -> tuple[str, ...]:
        return tuple(self.current.hairpins[c] for c in self.columns)

    @cached_property
    def _accession_ids(self) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for mid, acc in self.current.hairpin_accessions.items():
            out[acc] = ("hairpin", mid)
        for mid, acc in self.current.mature_accessions.items():
            out[acc] = ("mature", mid)
        return out

    def alias_lookup(self, name: str) -> list[str]:
        """Current stem-loop ids that a previous miRBase id (aliases.txt) now goes by."""
        targets: set[str] = set()
        for acc in self.aliases.get(name.lower(), ()):
            kind, mid = self._accession_ids.get(acc, ("", ""))
            if kind == "hairpin":
                targets.add(mid)
            elif kind == "mature":
                targets.update(self.current.precursors_of(mid))
        return sorted(targets)

    def describe(self) -> dict[str, object]:
        return {"directory": str(self.directory), "current_release": self.current.label,
                "older_releases": [r.label for r in self.releases[1:]],
                "human_stem_loops": len(self.columns), "aliases": bool(self.aliases),
                "files": dict(self.file_hashes)}


@dataclass(frozen=True)
class Resolution:
    """How one miRNA name was mapped to sequences: rule, miRBase ids (with release) and sequences."""

    name: str
    rule: str
    targets: tuple[str, ...] = ()
    sequences: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return bool(self.sequences)


def _find(name: str, catalogue: MirbaseCatalogue) -> tuple[str, list[tuple[Release, str]]] | None:
    """Rules 1-5 for one spelling of a name."""
    for k, release in enumerate(catalogue.releases):
        hit = release.lookup(name)
        if hit:
            rule = hit[0] if k == 0 else f"release {release.label}"
            return rule, [(release, mid) for mid in hit[1]]
    if catalogue.aliases:
        ids = catalogue.alias_lookup(name)
        if ids:
            return "alias", [(catalogue.current, mid) for mid in ids]
    return None


def _human_spelling(name: str) -> str | None:
    if _PREFIXLESS.match(name):
        return "hsa-" + name
    m = _SPECIES.match(name)
    if m and m.group(1).lower() != "hsa":
        return "hsa-" + m.group(2)
    return None


def _copy_family(name: str, catalogue: MirbaseCatalogue) -> list[tuple[Release, str]]:
    m = _COPY.match(name)
    if not m:
        return []
    for release in catalogue.releases:
        family = release.family(m.group(1))
        if family:
            return [(release, mid) for mid in family]
    return []


def resolve_name(name: str, catalogue: MirbaseCatalogue) -> Resolution:
    """Map one miRNA name to stem-loop sequences by the first rule of ``RULES`` that applies."""
    name = name.strip()
    found = _find(name, catalogue)
    human = _human_spelling(name)
    if found is None and human is not None:
        inner = _find(human, catalogue)
        if inner is not None:
            found = ("species prefix", inner[1])
    if found is None:
        for spelling in (name, human):
            hits = _copy_family(spelling, catalogue) if spelling else []
            if hits:
                found = ("copy number", hits)
                break
    if found is None:
        return Resolution(name, "unresolved")
    rule, hits = found
    targets = tuple(mid if release is catalogue.current else f"{mid} (release {release.label})"
                    for release, mid in hits)
    return Resolution(name, rule, targets, tuple(release.hairpins[mid] for release, mid in hits))


def rule_family(rule: str) -> str:
    """The RULES key of a rule label (``release 21`` -> ``release``)."""
    return "release" if rule.startswith("release ") else rule


def discover_files(directory: Path) -> tuple[list[tuple[str, Path, Path | None]], Path | None]:
    """Find (release label, hairpin file, mature file or None) newest first, and aliases.txt.

    Files named ``*hairpin*`` / ``*mature*`` (``.fa``, ``.fasta``, optionally gzipped; the
    ``high_conf`` subsets are ignored). ``vNN`` in a name gives its release; a name without one
    (miRBase's own ``hairpin.fa``) is the current release and ranks first.
    """
    if not directory.is_dir():
        raise DataError("miRBase directory does not exist", file=directory)
    hairpins: dict[str, Path] = {}
    matures: dict[str, Path] = {}
    aliases: Path | None = None
    for path in sorted(directory.iterdir()):
        low = path.name.lower()
        if low in ("aliases.txt", "aliases.txt.gz"):
            if not path.is_file():
                raise DataError("is not a file; miRBase's aliases.txt is optional: remove it or put the file "
                                "there", file=path)
            aliases = path
            continue
        if not path.is_file() or not low.endswith(_FASTA_SUFFIXES) or "high_conf" in low:
            continue
        m = re.search(r"v(\d+(?:\.\d+)?)", low)
        label = m.group(1) if m else "current"
        for kind, table in (("hairpin", hairpins), ("mature", matures)):
            if kind in low:
                if label in table:
                    raise DataError(f"two {kind} FASTA files for release {label}: {table[label].name} and "
                                    f"{path.name}; keep one", file=directory)
                table[label] = path
    if not hairpins:
        raise DataError("no miRBase stem-loop FASTA (hairpin.fa) found; give a miRBase directory "
                        "holding hairpin.fa and mature.fa from miRBase", file=directory)

    def rank(label: str) -> float:
        return float("inf") if label == "current" else float(label)

    labels = sorted(hairpins, key=rank, reverse=True)
    return [(label, hairpins[label], matures.get(label)) for label in labels], aliases


def read_aliases(path: Path) -> dict[str, tuple[str, ...]]:
    """miRBase ``aliases.txt``: ``ACCESSION<TAB>name1;name2;...`` -> lower name -> accessions."""
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"unreadable aliases file ({type(exc).__name__}: {exc}); delete or replace it (it is "
                        f"optional)", file=path) from None
    out: dict[str, set[str]] = defaultdict(set)
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 2:
            raise DataError("expected ACCESSION<TAB>names;...", file=path, row=number)
        for alias in filter(None, (a.strip() for a in cells[1].split(";"))):
            out[alias.lower()].add(cells[0].strip())
    return {k: tuple(sorted(v)) for k, v in out.items()}


def build_release(label: str, hairpin: Path, mature: Path | None) -> Release:
    h = read_fasta(hairpin)
    m = read_fasta(mature) if mature is not None else {}
    return Release(label, {k: v[1] for k, v in h.items()}, {k: v[1] for k, v in m.items()},
                   {k: v[0] for k, v in h.items() if v[0]}, {k: v[0] for k, v in m.items() if v[0]})
