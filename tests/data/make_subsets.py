"""Maintainers: rebuild the small miRBase and ncDR subsets in this folder from full copies (not a test).

    python tests/data/make_subsets.py ../shared/data/mirbase ../shared/data/ncdr/ncDR_Curated_DRmiRNA.csv

miRBase: a few dozen human stem-loops of releases 22 and 21 (families the tests align: let-7, mir-21, mir-30,
mir-138, ...) and the mature miRNAs inside them, records copied as they are. ncDR: the identifier columns the
mapping reads (no text) of every record of a few drugs and a sample of the rest, rows in the table's order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
STEM_LOOPS = [f"hsa-let-7{s}" for s in ("a-1", "a-2", "a-3", "b", "c", "d", "e", "f-1", "f-2", "g", "i")] + [
    f"hsa-mir-{s}" for s in ("1-1", "1-2", "10b", "17", "19a", "20b", "21", "29b-1", "29b-2", "30a", "30b",
                             "30c-1", "34a", "122", "125b-1", "125b-2", "138-1", "138-2", "145", "146a", "155",
                             "199a-1", "200b", "200c", "214", "221", "222")]
#: only in release 21 (removed from 22): what the "release 21" rule is tested on
OLD_ONLY = ["hsa-mir-3607"]
NCDR_COLUMNS = ["PMID", "miRNA_ID", "miRBase_acc", "Drug", "CID", "Drug_effect"]
NCDR_DRUGS = ["Trastuzumab", "Gefitinib", "Etoposide"]


def records(path: Path) -> list[tuple[str, str, str]]:
    """(id, RNA sequence, the record's text as in the file) of a FASTA file."""
    out, header, lines = [], None, []
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith(">"):
            if header is not None:
                out.append((header.split()[0][1:], "".join(x.strip() for x in lines).upper().replace("T", "U"),
                            header + "".join(lines)))
            header, lines = line, []
        else:
            lines.append(line)
    if header is not None:
        out.append((header.split()[0][1:], "".join(x.strip() for x in lines).upper().replace("T", "U"),
                    header + "".join(lines)))
    return out


def mirbase_subset(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for release in ("22", "21"):
        wanted = STEM_LOOPS + (OLD_ONLY if release == "21" else [])
        hairpins = [r for r in records(source / f"hsa_hairpins_miRBase_v{release}.fa") if r[0] in wanted]
        matures = [r for r in records(source / f"hsa_matures_miRBase_v{release}.fa")
                   if any(r[1] in h[1] for h in hairpins)]
        (target / f"hsa_hairpins_miRBase_v{release}.fa").write_text("".join(r[2] for r in hairpins))
        (target / f"hsa_matures_miRBase_v{release}.fa").write_text("".join(r[2] for r in matures))


def ncdr_subset(source: Path, target: Path) -> None:
    table = pd.read_csv(source, dtype=str, keep_default_na=False)
    keep = table["Drug"].isin(NCDR_DRUGS) | (table.index % 40 == 0)
    target.parent.mkdir(parents=True, exist_ok=True)
    table.loc[keep, NCDR_COLUMNS].to_csv(target, index=False)


if __name__ == "__main__":
    mirbase_subset(Path(sys.argv[1]), HERE / "mirbase")
    ncdr_subset(Path(sys.argv[2]), HERE / "ncdr" / "ncDR_Curated_DRmiRNA.csv")
