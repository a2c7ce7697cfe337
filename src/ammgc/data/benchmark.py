"""The published miRNA-drug resistance benchmark (GCMDR / AMMGC layout): the ``Benchmark`` source (files,
hashes, download, loader) and its readers.

106 drugs x 754 miRNAs, 3,338 associations, from the public repository ``scz760904126/AMMGC``
(commit 230f42c) plus the drug table of ``ZoomWang666/DMR-PEG`` (commit c2d27ca). Indices are
kept exactly as published; names are shown as given (see README, "Known quirks").
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ammgc.data.dataset import Dataset, FeatureView
from ammgc.data.derived import shipped_publications
from ammgc.data.download import extract_archive
from ammgc.data.embedded import PACKAGE_DIR, embedded_available, unpack_benchmark, write_embedded
from ammgc.data.publications import Publications
from ammgc.data.source import DataSource, FetchResult, SourceFile
from ammgc.data.validation import find_mean_imputed_rows, read_excel, read_matrix, read_text
from ammgc.errors import DataError
from ammgc.io import atomic_write_bytes, file_blob_sha1

N_DRUGS = 106
N_MIRNAS = 754
N_ASSOCIATIONS = 3338

AMMGC_REPO_URL = "https://raw.githubusercontent.com/scz760904126/AMMGC/230f42c049b7d3e8a07725d6e0ae9a483706708e/"
DMRPEG_REPO_URL = "https://raw.githubusercontent.com/ZoomWang666/DMR-PEG/c2d27ca191a314408cb11c7fb82259946f1c88a0/"


def _ammgc(path: str, blob_sha1: str, *, required: bool = True) -> SourceFile:
    return SourceFile(path, AMMGC_REPO_URL + urllib.parse.quote(path), blob_sha1, required)


GO_FILE = "features/ncrna_GOsimilarity_full.txt"
GO_COLUMNS = 2587
DATASET_NAME = "gcmdr-benchmark"
_MARKER = "drug-miRNA.txt"
_INTEGER = re.compile(r"[0-9]+")


def is_benchmark_dir(path: Path) -> bool:
    """Whether ``path`` has the benchmark's layout (its pair list), rather than bring-your-own data."""
    return (path / _MARKER).is_file()


@dataclass(frozen=True)
class BenchmarkDataset(Dataset):
    """The published benchmark as a dataset: the paper's numbers apply beside its results, and the publications
    of its pairs come from ncDR (shipped in the package, ``ammgc.data.derived``; else mapped from ncDR's table)."""

    paper: ClassVar[bool] = True

    def find_publications(self, *, fetch: bool = True) -> Publications | None:
        from ammgc.data.ncdr import Ncdr

        return shipped_publications(self) or Ncdr().load(self, fetch=fetch)


class Benchmark(DataSource):
    """The published benchmark, or whatever dataset ``--data`` / ``AMMGC_DATA`` names (``load_dataset`` reads
    any other layout as bring-your-own data). Its eight files ship inside the package (``ammgc.data.embedded``),
    so an empty cache is filled with no network; ``download`` refreshes it from the public homes."""

    title = "the benchmark"
    cache_name = "gcmdr"
    env = "AMMGC_DATA"
    not_found = "data path does not exist"
    files = (
        _ammgc("features/drug_feature_matrix.txt", "08b1175b49ed111aaf3b895c17d9cfb020ee7019"),
        _ammgc("features/drug_labelencoding.txt", "ac9ea80248edbf4bb7956687327be253434c75e9"),
        _ammgc("features/ncrna_expression_full.txt", "d1d3da4a02d79442cb8803e3991de4c384b5902b"),
        _ammgc("features/drug_miRNA.csv", "2981dedc716872995a4e01db0f06db8aed404562"),
        _ammgc("features/drug_miRNA.xlsx", "9b7409a14b60f4b0b0ff900e26a374bec681a60d"),
        _ammgc("features/miRNA_list.xlsx", "54857deda9e32f0dadeb0303492da0c7f5e514e3"),
        SourceFile("features/drug_list.xlsx", DMRPEG_REPO_URL + "drug_list.xlsx",
                   "b81d095bd9705e87e945359deb47f5c45478a2ed"),
        # the pair list marks a complete benchmark, so it is written last: an interrupted fetch leaves no
        # marker and the next run resumes (verified files are kept)
        _ammgc(_MARKER, "e39375e50beb6e5ff9b588b3dc9a8148b2426a52"),
        _ammgc(GO_FILE, "ee301b47895a616999cbba811d7f6704c038ca69", required=False),
    )
    #: not a file the loader reads: the authors' archive, fetched only on request (``--archive``)
    archive: ClassVar[SourceFile] = _ammgc("features/miRNA-drug data.zip", "103f56d0337d4be7921bf230c984e8c4afdb4d75",
                                          required=False)

    def usable(self, path: Path) -> bool:
        return path.exists()

    def complete(self, folder: Path) -> bool:
        return is_benchmark_dir(folder)

    @property
    def shipped(self) -> tuple[SourceFile, ...]:
        """The files that ship inside the package (``ammgc.data.embedded``): the required ones."""
        return tuple(f for f in self.files if f.required)

    def unpack(self, folder: Path) -> bool:
        if not embedded_available(self.shipped):
            return False
        unpack_benchmark(folder, self.shipped)
        return True

    def download(self, dest: str | os.PathLike[str] | None = None, *, include_go: bool = True,
                 with_archive: bool = False, **options: Any) -> list[FetchResult]:
        """``DataSource.download`` of every file, the optional GO similarity file too unless ``include_go`` is
        False; with ``with_archive`` the authors' zip archive is fetched as well and unpacked beside it."""
        dest = self.cache if dest is None else Path(dest)
        files = [f for f in self.files if include_go or f.path != GO_FILE] + ([self.archive] if with_archive else [])
        results = super().download(dest, files=files, **options)
        # only an archive verified in this run (downloaded, or already there and matching) is unpacked: a file
        # at that path that failed verification, with the mirror unreachable, is not the authors' archive
        if any(r.path == self.archive.path and r.status != "absent" for r in results):
            unpacked = extract_archive(dest / self.archive.path, dest / Path(self.archive.path).with_suffix(""))
            self._adopt_go_file(unpacked, dest)
        return results

    def _adopt_go_file(self, folder: Path, dest: Path) -> None:
        """If the archive holds the published GO similarity file (same blob), put it where the loader looks."""
        target = dest / GO_FILE
        if target.is_file():
            return
        go = next(f for f in self.files if f.path == GO_FILE)
        for candidate in sorted(folder.rglob("*")):
            if candidate.is_file() and candidate.name == Path(GO_FILE).name and self._matches(candidate, go):
                atomic_write_bytes(target, candidate.read_bytes())
                return

    def load(self, *, verify: bool = False) -> Dataset:
        """The benchmark from its original layout. Every feature matrix present is a view labelled with file,
        blob hash and shape. With ``verify`` every file's git blob SHA-1 is checked against the published
        one; the GO file, when present, always is (it is the one users add by hand)."""
        root = self.resolve()
        if not is_benchmark_dir(root):
            raise DataError("not a benchmark directory (drug-miRNA.txt missing)", file=root)
        hashes = {}
        for spec in self.files:
            f = root / spec.path
            if not f.is_file():
                if spec.required:
                    raise DataError("required benchmark file is missing", file=f)
                continue
            if verify or spec.path == GO_FILE:
                hashes[spec.path] = self.blob(f, spec)
        drugs = _read_drug_table(root / "features/drug_list.xlsx")
        mirnas = _read_mirna_list(root / "features/miRNA_list.xlsx")
        associations = _read_pair_list(root / _MARKER, len(drugs), len(mirnas))
        _check_matrix_agrees(root / "features/drug_miRNA.csv", associations)

        def view(name: str, entity: str, rel: str, n_rows: int, **kw: object) -> FeatureView:
            f = root / rel
            matrix = read_matrix(f, rows=n_rows, **kw)  # type: ignore[arg-type]
            return FeatureView(name, entity, matrix, source=str(f),  # type: ignore[arg-type]
                               blob_sha1=hashes.get(rel) or file_blob_sha1(f))

        views = [
            view("fingerprint", "drug", "features/drug_feature_matrix.txt", len(drugs), columns=920, binary=True),
            view("smiles_code", "drug", "features/drug_labelencoding.txt", len(drugs), columns=85, integer=True),
            view("expression", "mirna", "features/ncrna_expression_full.txt", len(mirnas), columns=172),
        ]
        if (root / GO_FILE).is_file():
            views.append(view("go", "mirna", GO_FILE, len(mirnas), columns=GO_COLUMNS))
        views = [_with_imputation_note(v) for v in views]
        dataset = BenchmarkDataset(associations=associations, drugs=drugs, mirnas=mirnas,
                                   views={v.name: v for v in views}, source=str(root), name=DATASET_NAME)
        # the publications of the benchmark's pairs ship with it (from ncDR): the same with or without network
        return replace(dataset, publications=shipped_publications(dataset))


def load_benchmark(root: str | os.PathLike[str] | None = None, *, verify: bool = False) -> Dataset:
    """The benchmark from ``root``; else from ``AMMGC_DATA`` where that holds the benchmark's layout, else from
    the user cache, filled from the copy shipped in the package (``AMMGC_DATA`` pointing at own data does
    not change what this loads; ``load_dataset`` reads that)."""
    if root is None:
        env = os.environ.get(Benchmark.env)
        if env and not is_benchmark_dir(Path(env).expanduser()):
            root = Benchmark().resolve(environment=False)
    return Benchmark(root).load(verify=verify)


def _with_imputation_note(view: FeatureView) -> FeatureView:
    imputed = int(find_mean_imputed_rows(view.matrix).sum())
    if not imputed:
        return view
    return replace(view, note=f"{imputed} of {view.shape[0]} rows are the mean of the known rows (imputed)")


def benchmark_notes(dataset: Dataset) -> list[str]:
    """Short notes on the benchmark's known quirks, as found in ``dataset`` (kept as published)."""
    names = dataset.drug_names
    notes = ["indices are kept exactly as published; names are shown as given"]
    for name in sorted(set(names)):
        where = [i for i, n in enumerate(names) if n == name]
        if len(where) > 1:
            cids = ", ".join(str(dataset.drugs["cid"].iloc[i]) or "?" for i in where)
            indices = ", ".join(map(str, where))
            notes.append(f"drug name {name!r} appears {len(where)} times "
                         f"(indices {indices}; PubChem CIDs {cids})")
    for i, name in enumerate(names):
        for j, other in enumerate(names):
            if other == f"{name} HCl":
                notes.append(f"{name!r} (index {i}) and {other!r} (index {j}) are one drug, base and salt")
    if len(names) > 23 and names[23] == "Lithocholic Acid":
        notes.append("drug index 23 is labelled 'Lithocholic Acid' (CID 9903), but its associations are "
                     "ncDR's trastuzumab set")
    no_mesh = int((dataset.drugs["mesh"] == "0").sum())
    if no_mesh:
        notes.append(f"{no_mesh} drugs have MeSH id 0 (none assigned)")
    return notes


def check_labelled_matrix(root: str | Path, dataset: Dataset) -> None:
    """``features/drug_miRNA.xlsx`` (CIDs x miRNA names) must agree with the drug table, miRNA list and pairs.

    Slow (about a second), so it runs in ``ammgc data check`` rather than on every load.
    """
    path = Path(root) / "features/drug_miRNA.xlsx"
    table = read_excel(path, header=None)
    expected = (dataset.n_drugs + 1, dataset.n_mirnas + 1)
    if table.shape != expected:
        raise DataError(f"has {table.shape[0]} x {table.shape[1]} cells, expected "
                        f"{expected[0]} x {expected[1]} (header row and column included)", file=path)
    for j, (found, name) in enumerate(zip(table.iloc[0, 1:], dataset.mirna_names, strict=True), start=2):
        if str(found).strip() != name:
            raise DataError(f"miRNA {found!r} where miRNA_list.xlsx has {name!r}", file=path, row=1, column=j)
    for i, (found, cid) in enumerate(zip(table.iloc[1:, 0], dataset.drugs["cid"], strict=True), start=2):
        if _clean_id(found) != cid:
            raise DataError(f"PubChem CID {found!r} where drug_list.xlsx has {cid!r}",
                            file=path, row=i, column=1)
    values = table.iloc[1:, 1:].to_numpy()
    for i, j in np.argwhere(~np.isin(values, (0, 1))):
        raise DataError(f"expected 0 or 1, found {values[i, j]!r}",
                        file=path, row=int(i) + 2, column=int(j) + 2)
    diff = np.argwhere(values.astype(np.uint8) != dataset.associations)
    if len(diff):
        i, j = diff[0]
        raise DataError(f"disagrees with drug-miRNA.txt at drug {i + 1}, miRNA {j + 1} "
                        f"({len(diff)} cells differ)", file=path, row=int(i) + 2, column=int(j) + 2)


def _read_drug_table(path: Path) -> pd.DataFrame:
    table = read_excel(path, header=0)
    if table.shape[1] < 4:
        raise DataError(f"expected 4 columns (PubChem CID, MeSH id, name, SMILES), found {table.shape[1]}",
                        file=path)
    table = table.iloc[:, :4]
    table.columns = ["cid", "mesh", "name", "smiles"]
    if len(table) != N_DRUGS:
        raise DataError(f"has {len(table)} drugs, expected {N_DRUGS}", file=path)
    for i, name in enumerate(table["name"]):
        if pd.isna(name) or not str(name).strip():
            raise DataError("drug name is empty", file=path, row=i + 2)
    out = pd.DataFrame({
        "name": [str(n).strip() for n in table["name"]],
        "cid": [_clean_id(c) for c in table["cid"]],
        "mesh": [_clean_id(m) for m in table["mesh"]],
        "smiles": ["" if pd.isna(s) else str(s).strip() for s in table["smiles"]],
    })
    return out


def _read_mirna_list(path: Path) -> pd.DataFrame:
    table = read_excel(path, header=None)
    names = ["" if pd.isna(n) else str(n).strip() for n in table.iloc[:, 0]]
    if len(names) != N_MIRNAS:
        raise DataError(f"has {len(names)} miRNAs, expected {N_MIRNAS}", file=path)
    for i, name in enumerate(names):
        if not name:
            raise DataError("miRNA name is empty", file=path, row=i + 1)
    return pd.DataFrame({"name": names})


def _read_pair_list(path: Path, n_drugs: int, n_mirnas: int) -> np.ndarray:
    """Parse ``drug_no<TAB>mirna_no<TAB>1`` lines (1-based) into a 0/1 matrix."""
    associations = np.zeros((n_drugs, n_mirnas), dtype=np.uint8)
    seen: dict[tuple[int, int], int] = {}
    lines = read_text(path).split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if any(rest.strip() for rest in lines[number:]):
                raise DataError("blank line inside the association list", file=path, row=number)
            break
        cells = line.split()
        if len(cells) != 3:
            raise DataError(f"expected 3 tab-separated fields (drug, miRNA, 1), found {len(cells)}",
                            file=path, row=number)
        for col, cell in enumerate(cells, start=1):
            if not _INTEGER.fullmatch(cell):
                raise DataError(f"expected a whole number, found {cell[:30]!r}",
                                file=path, row=number, column=col)
        drug, mirna, label = (int(c) for c in cells)
        if label != 1:
            raise DataError(f"label must be 1, found {label}", file=path, row=number, column=3)
        if not 1 <= drug <= n_drugs:
            raise DataError(f"drug number {drug} outside 1..{n_drugs}", file=path, row=number, column=1)
        if not 1 <= mirna <= n_mirnas:
            raise DataError(f"miRNA number {mirna} outside 1..{n_mirnas}", file=path, row=number, column=2)
        key = (drug - 1, mirna - 1)
        if key in seen:
            raise DataError(f"duplicate pair ({drug}, {mirna}), first at row {seen[key]}",
                            file=path, row=number)
        seen[key] = number
        associations[key] = 1
    if not seen:
        raise DataError("no associations", file=path)
    return associations


def _check_matrix_agrees(path: Path, associations: np.ndarray) -> None:
    """The 0/1 CSV copy of the associations must say the same as the pair list."""
    if not path.is_file():
        return
    matrix = read_matrix(path, delimiter=",", rows=associations.shape[0], columns=associations.shape[1],
                         binary=True)
    diff = np.argwhere(matrix != associations)
    if len(diff):
        i, j = diff[0]
        raise DataError(f"disagrees with drug-miRNA.txt at drug {i + 1}, miRNA {j + 1} "
                        f"({len(diff)} cells differ)", file=path, row=int(i) + 1, column=int(j) + 1)


def _clean_id(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


if __name__ == "__main__":  # maintainers: rebuild the embedded copy from a verified benchmark folder
    import sys

    write_embedded(Path(sys.argv[1]), PACKAGE_DIR, Benchmark().shipped)
