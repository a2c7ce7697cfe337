"""miRBase: the human stem-loop and mature sequences behind the miRNA ``sequence`` view.

Not shipped in the package and not pinned by hash: the current release is downloaded from miRBase
(``hairpin.fa``, ``mature.fa``, and ``aliases.txt`` when offered), each file checked to be a FASTA with
human entries before it is written. Any folder of miRBase files works as a copy (``--mirbase DIR``,
``AMMGC_MIRBASE``), older releases beside the current one included (``MirbaseCatalogue``; names are resolved by
``ammgc.features.names``).
"""

from __future__ import annotations

import gzip
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from ammgc.data.source import DataSource, SourceFile
from ammgc.errors import DataError, DownloadError
from ammgc.io import file_blob_sha1

MIRBASE_URL = "https://www.mirbase.org/download/"
_IUPAC_AMBIGUOUS = set("RYKMSWBDHVN")
_FASTA_SUFFIXES = (".fa", ".fa.gz", ".fasta", ".fasta.gz")
# species-family-name-copy: the family part keeps its own number (hsa-mir-1-1 -> hsa-mir-1)
COPY_NUMBER = re.compile(r"^([^-]+-[^-]+-[^-]+(?:-[^-]+)*?)-(\d+)$")


class Mirbase(DataSource):
    """miRBase's sequences (a folder); ``load()`` reads them into a ``MirbaseCatalogue``."""

    title = "miRBase"
    cache_name = "mirbase"
    env = "AMMGC_MIRBASE"
    not_found = "miRBase directory does not exist"
    files = (SourceFile("hairpin.fa", MIRBASE_URL + "hairpin.fa", None),
             SourceFile("mature.fa", MIRBASE_URL + "mature.fa", None),
             SourceFile("aliases.txt", MIRBASE_URL + "aliases.txt", None, required=False))
    mirrored = False  # AMMGC_BASE_URL mirrors the pinned files; miRBase's current release is not one of them
    retries = 0  # one attempt: offline, the default model goes on without the sequence view at once
    timeout_s = 60.0

    def check(self, spec: SourceFile, data: bytes, url: str) -> None:
        """A FASTA file must have human (hsa-) entries; nothing is written otherwise."""
        if not spec.path.endswith(".fa"):
            return

        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / spec.path
            part.write_bytes(data)
            try:
                human = any(k.startswith("hsa-") for k in read_fasta(part))
            except DataError as exc:
                raise DownloadError(f"{url} is not a valid FASTA file: {exc}") from None
        if not human:
            raise DownloadError(f"{url} has no human (hsa-) entries; not a miRBase FASTA")

    def hint(self, dest: Path, base_url: str | None) -> str:
        """Any folder of miRBase files will do (nothing is pinned), so no list of files."""
        return f"No network? Then {self._ways()} to a directory with miRBase's hairpin.fa and mature.fa"

    def load(self) -> MirbaseCatalogue:
        """The miRBase files of the resolved folder (kept in memory while the files are unchanged)."""

        directory = self.resolve().resolve()
        releases, aliases = discover_files(directory)
        files = [p for _, h, m in releases for p in (h, m) if p is not None] + ([aliases] if aliases else [])
        stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        return _catalogue(directory, stamp)


@lru_cache(maxsize=4)
def _catalogue(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> MirbaseCatalogue:

    found, aliases_path = discover_files(directory)
    releases = tuple(build_release(label, hairpin, mature) for label, hairpin, mature in found)
    hashes = tuple((Path(path).name, file_blob_sha1(path)) for path, _, _ in stamp)
    aliases = read_aliases(aliases_path) if aliases_path else {}
    catalogue = MirbaseCatalogue(directory, releases, aliases, hashes)
    if not catalogue.columns:
        raise DataError("the current stem-loop FASTA has no human (hsa-) entries", file=found[0][1])
    return catalogue


# --- the files: FASTA, aliases, releases, the catalogue -------------------------------------------------

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


def _family(mirna_id: str) -> str | None:
    """The lower-case id without its copy number (hsa-mir-16-1 -> hsa-mir-16), or None for an id without one."""
    m = COPY_NUMBER.match(mirna_id.lower())
    return m.group(1) if m else None


def _index(ids: Iterable[str], key: Callable[[str], str | None]) -> dict[str, list[str]]:
    """The ids under each key (in sorted order); an id whose key is None is left out."""
    index: dict[str, list[str]] = defaultdict(list)
    for mid in sorted(ids):
        k = key(mid)
        if k is not None:
            index[k].append(mid)
    return dict(index)


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
        return _index(self.hairpins, str.lower)

    @cached_property
    def _families(self) -> dict[str, list[str]]:
        return _index(self.hairpins, _family)

    @cached_property
    def _mature_lower(self) -> dict[str, list[str]]:
        return _index(self.matures, str.lower)

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
