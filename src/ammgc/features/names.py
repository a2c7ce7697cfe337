"""miRNA name resolution against a miRBase catalogue (``ammgc.data.mirbase.MirbaseCatalogue``: the stem-loop
and mature FASTA of one or more releases).

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

import re
from dataclasses import dataclass

from ammgc.data.mirbase import COPY_NUMBER, MirbaseCatalogue, Release

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

_PREFIXLESS = re.compile(r"^(mir|let|lin)-", re.IGNORECASE)
_SPECIES = re.compile(r"^([a-z]{2,5})-((?:mir|let|lin)-.+)$", re.IGNORECASE)


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
    m = COPY_NUMBER.match(name)
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


