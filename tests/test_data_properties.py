"""Property tests: a corrupted input either loads to exactly the right dataset or raises DataError.

Any other exception (or a silently different dataset) fails. Corruptions of the benchmark files are
applied to one file of a scratch copy whose other files link to the shared data; bring-your-own
datasets are small and generated, so every example is fast.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ammgc.data.benchmark import Benchmark, load_benchmark
from ammgc.data.byo import load_own_dataset
from ammgc.data.dataset import Dataset
from ammgc.data.validation import is_number, read_matrix
from ammgc.errors import DataError

# Loading the benchmark takes ~0.4 s, so its properties get fewer examples than the small own datasets.
BENCHMARK_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OWN_SETTINGS = settings(max_examples=100, deadline=None)

TEXT_FILES = {  # path -> delimiter
    "drug-miRNA.txt": "\t",
    "features/drug_feature_matrix.txt": "\t",
    "features/drug_labelencoding.txt": "\t",
    "features/ncrna_expression_full.txt": "\t",
    "features/drug_miRNA.csv": ",",
}
EXCEL_FILES = ["features/drug_list.xlsx", "features/miRNA_list.xlsx"]
BAD_TOKENS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e999", "abc", "", "0x10", "1_000",
              "--1", "1e", ".", "1.2.3", "+-1", "\u00bd", "\u0661"]
# Valid numbers, some of them out of place (a 2 in a 0/1 matrix, 0.5 where integers belong).
VALUE_TOKENS = ["1e300", "-1e300", "1e-300", "123456789012345678901234567890", "1e308", "-0", "0", "1", "2",
                "-1", "0.5", "+1", "1.", ".5", "1E2", "007"]


def same(a: Dataset, b: Dataset) -> bool:
    """Same drugs, miRNAs, associations and feature matrices (notes and sources may differ)."""
    return (a.drug_names == b.drug_names and a.mirna_names == b.mirna_names
            and np.array_equal(a.associations, b.associations)
            and a.views.keys() == b.views.keys()
            and all(np.array_equal(a.views[k].matrix, b.views[k].matrix)
                    and a.views[k].entity == b.views[k].entity for k in a.views))


def load_or_error(load: object, path: Path) -> Dataset | DataError:
    try:
        return load(path)  # type: ignore[operator]
    except DataError as exc:
        return exc


# --- the benchmark -------------------------------------------------------------------------------

@contextmanager
def benchmark_with(source: Path, rel: str, content: bytes) -> Iterator[Path]:
    """A scratch benchmark directory: ``rel`` holds ``content``, every other file links to ``source``."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "features").mkdir()
        for spec in Benchmark.files:
            if (source / spec.path).is_file() and spec.path != rel:
                os.symlink(source / spec.path, root / spec.path)
        (root / rel).write_bytes(content)
        yield root


def lines_of(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n", "\n").rstrip("\n").split("\n")


def join(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


@st.composite
def text_corruption(draw: st.DrawFn, original: bytes,
                    delimiter: str) -> tuple[str, bytes, tuple[int, int, str]]:
    """(kind, corrupted bytes, changed cell) where ``changed cell`` is set only for valid value changes."""
    lines = lines_of(original)
    # cell-level changes are listed twice: they have the most ways to go wrong
    kind = draw(st.sampled_from(["bom", "crlf", "lf", "trailing_blank", "delete_line", "duplicate_line",
                                 "drop_cell", "extra_cell", "bad_token", "value", "wrong_delimiter",
                                 "one_row_wrong_delimiter", "empty", "truncate", "blank_line_inside",
                                 "bad_token", "value"]))
    row = draw(st.integers(0, len(lines) - 1))
    cells = lines[row].split(delimiter)
    col = draw(st.integers(0, len(cells) - 1))
    other = draw(st.sampled_from([d for d in (",", "\t", ";", " ") if d != delimiter]))
    changed = (-1, -1, "")
    if kind == "bom":
        data = b"\xef\xbb\xbf" + original
    elif kind == "crlf":
        data = join(lines).replace(b"\n", b"\r\n")
    elif kind == "lf":
        data = join(lines)
    elif kind == "trailing_blank":
        data = original + b"\n\r\n  \n"
    elif kind == "delete_line":
        data = join(lines[:row] + lines[row + 1:])
    elif kind == "duplicate_line":
        data = join(lines[:row + 1] + lines[row:])
    elif kind in ("drop_cell", "extra_cell", "bad_token", "value"):
        if kind == "drop_cell":
            del cells[col]
        elif kind == "extra_cell":
            cells.insert(col, draw(st.sampled_from(["0", "1", "0.5"])))
        else:
            token = draw(st.sampled_from(BAD_TOKENS if kind == "bad_token" else VALUE_TOKENS))
            cells[col] = token
            if kind == "value":
                changed = (row, col, token)
        data = join(lines[:row] + [delimiter.join(cells)] + lines[row + 1:])
    elif kind == "wrong_delimiter":
        data = join([line.replace(delimiter, other) for line in lines])
    elif kind == "one_row_wrong_delimiter":
        data = join(lines[:row] + [lines[row].replace(delimiter, other)] + lines[row + 1:])
    elif kind == "empty":
        data = draw(st.sampled_from([b"", b"\n", b"\r\n \t\r\n", b"\xef\xbb\xbf"]))
    elif kind == "truncate":  # a transfer cut short: at least the last tenth of the file is gone
        data = original[:draw(st.integers(0, len(original) * 9 // 10))]
    else:
        data = join(lines[:row] + [""] + lines[row:])
    return kind, data, changed


MATRIX_READS = {  # how the benchmark loader reads each matrix, and which reference matrix it yields
    "features/drug_feature_matrix.txt": ({"rows": 106, "columns": 920, "binary": True}, "fingerprint"),
    "features/drug_labelencoding.txt": ({"rows": 106, "columns": 85, "integer": True}, "smiles_code"),
    "features/ncrna_expression_full.txt": ({"rows": 754, "columns": 172}, "expression"),
    "features/drug_miRNA.csv": ({"delimiter": ",", "rows": 106, "columns": 754, "binary": True}, None),
}


def reference_matrix(reference: Dataset, rel: str) -> np.ndarray:
    view = MATRIX_READS[rel][1]
    return reference.view(view).matrix if view else reference.associations.astype(np.float64)


def changed_matrix(reference: Dataset, rel: str, changed: tuple[int, int, str]) -> np.ndarray | None:
    """The matrix a changed value must give, or None where the value must be refused."""
    row, col, token = changed
    value = float(token)
    options = MATRIX_READS[rel][0]
    if (options.get("binary") and value not in (0.0, 1.0)) or (options.get("integer") and value != int(value)):
        return None
    matrix = reference_matrix(reference, rel).copy()
    matrix[row, col] = value
    return matrix


def expected_after_value_change(reference: Dataset, rel: str,
                                changed: tuple[int, int, str]) -> Dataset | None:
    """The dataset a changed value must give, or None where the loader must refuse it."""
    matrix = changed_matrix(reference, rel, changed)
    view = MATRIX_READS[rel][1]
    if matrix is None:
        return None
    if view is None:  # drug_miRNA.csv only cross-checks the pair list: it must say the same
        return reference if np.array_equal(matrix, reference.associations) else None
    return reference.with_views(replace(reference.view(view), matrix=matrix))


NOT_A_NUMBER = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\ufeff"), min_size=1).filter(
    lambda t: any(c not in "0123456789+-.eE" and not c.isspace() for c in t))


@settings(max_examples=300, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), kind=st.sampled_from(["float", "binary", "integer"]),
       data=st.data())
def test_matrix_cell_tokens(shape: tuple[int, int], kind: str, data: st.DataObject) -> None:
    """One cell of a small matrix replaced by a bad token, an extreme number or random text."""
    values = (st.integers(0, 1) if kind == "binary" else st.integers(-999, 999) if kind == "integer"
              else st.floats(allow_nan=False, allow_infinity=False))
    matrix = np.array(data.draw(st.lists(st.lists(values, min_size=shape[1], max_size=shape[1]),
                                         min_size=shape[0], max_size=shape[0])), dtype=np.float64)
    row, col = data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1))
    token = data.draw(st.sampled_from(BAD_TOKENS) | st.sampled_from(VALUE_TOKENS) | NOT_A_NUMBER
                      | st.floats(allow_nan=False, allow_infinity=False).map(repr), label="token")
    cells = [[repr(v) for v in line] for line in matrix.tolist()]
    cells[row][col] = token
    expected: np.ndarray | None = None
    if is_number(token):
        value = float(token)
        valid = np.isfinite(value) and (kind != "binary" or value in (0.0, 1.0)) and (
            kind != "integer" or value == int(value))
        if valid:
            expected = matrix.copy()
            expected[row, col] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.txt"
        path.write_text("\n".join("\t".join(line) for line in cells) + "\n", encoding="utf-8")
        try:
            outcome: np.ndarray | DataError = read_matrix(path, rows=shape[0], columns=shape[1],
                                                          binary=kind == "binary", integer=kind == "integer")
        except DataError as exc:
            outcome = exc
    if expected is None:
        assert isinstance(outcome, DataError), (token, outcome)
    else:
        assert isinstance(outcome, np.ndarray) and np.array_equal(outcome, expected), (token, outcome)


@settings(BENCHMARK_SETTINGS, max_examples=60)
@given(data=st.data())
def test_corrupted_benchmark_matrix(benchmark: Dataset, benchmark_path: Path, data: st.DataObject) -> None:
    """Each matrix file read as the loader reads it (cheap, so many more examples than a full load)."""
    rel = data.draw(st.sampled_from(sorted(MATRIX_READS)), label="file")
    options = MATRIX_READS[rel][0]
    original = (benchmark_path / rel).read_bytes()
    kind, content, changed = data.draw(text_corruption(original, str(options.get("delimiter", "\t"))),
                                       label="corruption")
    event(f"{rel}: {kind}")
    reference = reference_matrix(benchmark, rel)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(rel).name
        path.write_bytes(content)
        try:
            outcome: np.ndarray | DataError = read_matrix(path, **options)  # type: ignore[arg-type]
        except DataError as exc:
            outcome = exc
    if kind in ("bom", "crlf", "lf", "trailing_blank"):
        assert isinstance(outcome, np.ndarray) and np.array_equal(outcome, reference), outcome
    elif kind == "value":
        expected = changed_matrix(benchmark, rel, changed)
        if expected is None:
            assert isinstance(outcome, DataError), changed
        else:
            assert isinstance(outcome, np.ndarray) and np.array_equal(outcome, expected), outcome
    elif isinstance(outcome, np.ndarray):
        assert np.array_equal(outcome, reference), kind


@settings(BENCHMARK_SETTINGS, max_examples=15)
@given(data=st.data())
def test_corrupted_benchmark_text_file(benchmark: Dataset, benchmark_path: Path, data: st.DataObject) -> None:
    # the pair list half of the time: the matrices get many more examples in the property above
    rel = data.draw(st.sampled_from(["drug-miRNA.txt"] * 4 + sorted(MATRIX_READS)), label="file")
    original = (benchmark_path / rel).read_bytes()
    kind, content, changed = data.draw(text_corruption(original, TEXT_FILES[rel]), label="corruption")
    event(f"{rel}: {kind}")
    with benchmark_with(benchmark_path, rel, content) as root:
        outcome = load_or_error(load_benchmark, root)
    if kind in ("bom", "crlf", "lf", "trailing_blank"):
        assert isinstance(outcome, Dataset), outcome
        assert same(outcome, benchmark)
    elif kind == "value" and rel in MATRIX_READS:
        expected = expected_after_value_change(benchmark, rel, changed)
        if expected is None:
            assert isinstance(outcome, DataError), changed
        else:
            assert isinstance(outcome, Dataset), outcome
            assert same(outcome, expected)
    elif isinstance(outcome, Dataset):
        # whatever else loads (a pair index changed to one that says the same, a line duplicated
        # where that changes nothing) must give back exactly the published data
        assert same(outcome, benchmark), kind


@settings(BENCHMARK_SETTINGS, max_examples=10)
@given(data=st.data())
def test_corrupted_benchmark_workbook(benchmark: Dataset, benchmark_path: Path, data: st.DataObject) -> None:
    rel = data.draw(st.sampled_from(EXCEL_FILES), label="file")
    original = bytearray((benchmark_path / rel).read_bytes())
    kind = data.draw(st.sampled_from(["truncate", "flip", "empty", "text"]), label="kind")
    event(f"{rel}: {kind}")
    if kind == "truncate":
        content = bytes(original[:data.draw(st.integers(0, len(original) - 1))])
    elif kind == "flip":
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] ^= data.draw(st.integers(1, 255))
        content = bytes(original)
    elif kind == "empty":
        content = b""
    else:
        content = b"name\nEthanol\n"
    with benchmark_with(benchmark_path, rel, content) as root:
        outcome = load_or_error(load_benchmark, root)
    assert isinstance(outcome, DataError) or same(outcome, benchmark), kind


# --- bring-your-own data ---------------------------------------------------------------------------

@dataclass
class Own:
    """A small own dataset as data; ``tables()`` renders it, ``expected`` is what loading must give."""

    drugs: list[str]
    smiles: list[str]
    mirnas: list[str]
    sequences: list[str]
    pairs: dict[tuple[int, int], int]
    drug_features: np.ndarray
    mirna_features: np.ndarray
    drug_order: list[int] = field(default_factory=list)
    mirna_order: list[int] = field(default_factory=list)

    def tables(self, extra_column: bool = False) -> dict[str, list[list[str]]]:
        def features(names: list[str], matrix: np.ndarray, order: list[int]) -> list[list[str]]:
            header = ["name", *[f"f{k}" for k in range(matrix.shape[1])]]
            return [header, *[[names[i], *map(repr, matrix[i].tolist())] for i in order]]

        note = [["note"], ["x"]] if extra_column else [[], []]
        return {
            "associations.csv": [["drug", "mirna", "label", *note[0]],
                                 *[[self.drugs[i], self.mirnas[j], str(v), *note[1]]
                                   for (i, j), v in self.pairs.items()]],
            "drugs.csv": [["name", "smiles", *note[0]],
                          *[[n, s, *note[1]] for n, s in zip(self.drugs, self.smiles, strict=True)]],
            "mirnas.csv": [["name", "sequence", *note[0]],
                           *[[n, s, *note[1]] for n, s in zip(self.mirnas, self.sequences, strict=True)]],
            "features/drug/fp.csv": features(self.drugs, self.drug_features, self.drug_order),
            "features/mirna/expr.csv": features(self.mirnas, self.mirna_features, self.mirna_order),
        }

    def expected_associations(self) -> np.ndarray:
        matrix = np.zeros((len(self.drugs), len(self.mirnas)), dtype=np.uint8)
        for (i, j), v in self.pairs.items():
            matrix[i, j] = v
        return matrix

    def check(self, dataset: Dataset, changes: dict[str, np.ndarray] | None = None) -> None:
        """``dataset`` is this one, except for the arrays in ``changes`` (associations, fp, expr)."""
        changes = changes or {}
        assert dataset.drug_names == self.drugs and dataset.mirna_names == self.mirnas
        assert np.array_equal(dataset.associations, changes.get("associations", self.expected_associations()))
        assert list(dataset.drugs["smiles"]) == self.smiles
        assert list(dataset.mirnas["sequence"]) == self.sequences
        assert np.array_equal(dataset.view("fp").matrix, changes.get("fp", self.drug_features))
        assert np.array_equal(dataset.view("expr").matrix, changes.get("expr", self.mirna_features))


NAME_TEXT = st.text(alphabet="abXY- _.", max_size=4)
# feature values small enough for a row of three to sum (rows are divided by their sums)
VALUES = (st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
          | st.integers(-10**6, 10**6).map(float))


@st.composite
def own_datasets(draw: st.DrawFn) -> Own:
    n_drugs, n_mirnas = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    drugs = [f"D{i}{draw(NAME_TEXT)}".strip() for i in range(n_drugs)]
    mirnas = [f"hsa-mir-{i}{draw(NAME_TEXT)}".strip() for i in range(n_mirnas)]
    keys = st.tuples(st.integers(0, n_drugs - 1), st.integers(0, n_mirnas - 1))
    pairs = draw(st.dictionaries(keys, st.sampled_from([0, 1]), min_size=1, max_size=8))
    first = next(iter(pairs))
    pairs[first] = 1
    width_d, width_m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return Own(
        drugs=drugs, mirnas=mirnas, pairs=pairs,
        smiles=[draw(st.sampled_from(["C", "CCO", "c1ccccc1", "N.N.Cl[Pt+2]Cl", ""])) for _ in drugs],
        sequences=[draw(st.text(alphabet="ACGU", max_size=8)) for _ in mirnas],
        drug_features=np.array([[draw(VALUES) for _ in range(width_d)] for _ in drugs]),
        mirna_features=np.array([[draw(VALUES) for _ in range(width_m)] for _ in mirnas]),
        drug_order=draw(st.permutations(range(n_drugs))),
        mirna_order=draw(st.permutations(range(n_mirnas))),
    )


def render(rows: list[list[str]], delimiter: str = ",", newline: str = "\n", bom: bool = False,
           pad: bool = False, blank_lines: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow([f" {c} " if pad and c else c for c in row])
        if blank_lines:
            out.write(newline)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


@contextmanager
def own_directory(files: dict[str, bytes]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "own"
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        yield root


@OWN_SETTINGS
@given(own=own_datasets(), data=st.data())
def test_own_data_in_any_tolerated_format_loads_exactly(own: Own, data: st.DataObject) -> None:
    extra = data.draw(st.booleans(), label="extra ignored column")
    files = {}
    for rel, rows in own.tables(extra_column=extra).items():
        style = data.draw(st.fixed_dictionaries({
            "delimiter": st.sampled_from([",", "\t", ";"]), "newline": st.sampled_from(["\n", "\r\n"]),
            "bom": st.booleans(), "pad": st.booleans(), "blank_lines": st.booleans()}), label=rel)
        files[rel] = render(rows, **style)
    with own_directory(files) as root:
        own.check(load_own_dataset(root))


def cell_positions(rows: list[list[str]], numeric_from: int | None) -> list[tuple[int, int]]:
    first = numeric_from if numeric_from is not None else 0
    return [(r, c) for r in range(1, len(rows)) for c in range(first, len(rows[r]))]


@OWN_SETTINGS
@given(own=own_datasets(), data=st.data())
def test_corrupted_own_data_is_refused_or_exact(own: Own, data: st.DataObject) -> None:
    tables = own.tables()
    rel = data.draw(st.sampled_from(sorted(tables)), label="file")
    rows = [list(r) for r in tables[rel]]
    kind = data.draw(st.sampled_from(["delete_line", "duplicate_line", "drop_field", "extra_field",
                                      "bad_token", "unknown_name", "empty", "header_only",
                                      "one_row_wrong_delimiter", "not_utf8", "nul"]), label="kind")
    event(f"{rel}: {kind}")
    row = data.draw(st.integers(0, len(rows) - 1), label="row")
    changes: dict[str, np.ndarray] | None = None  # set where the corruption leaves a valid, different dataset
    text: bytes | None = None
    if kind == "delete_line":
        removed = rows.pop(row)
        if rel == "associations.csv" and row > 0:
            associations = own.expected_associations()
            associations[own.drugs.index(removed[0]), own.mirnas.index(removed[1])] = 0
            if associations.any():  # else nothing is left to learn from: an error
                changes = {"associations": associations}
    elif kind == "duplicate_line":
        rows.insert(row, list(rows[row]))
    elif kind == "drop_field":
        rows[row].pop()
    elif kind == "extra_field":
        rows[row].append("1")
    elif kind == "bad_token":
        numeric = {"associations.csv": 2, "features/drug/fp.csv": 1, "features/mirna/expr.csv": 1}
        if rel not in numeric:
            return  # names, SMILES and sequences are free text
        r, c = data.draw(st.sampled_from(cell_positions(rows, numeric[rel])), label="cell")
        token = rows[r][c] = data.draw(st.sampled_from(BAD_TOKENS + VALUE_TOKENS), label="token")
        if is_number(token) and rel == "associations.csv" and float(token) in (0.0, 1.0):
            associations = own.expected_associations()
            associations[own.drugs.index(rows[r][0]), own.mirnas.index(rows[r][1])] = int(float(token))
            if associations.any():
                changes = {"associations": associations}
        elif is_number(token) and rel != "associations.csv" and math.isfinite(float(token)):  # 1e400 is an error
            key, order = ("fp", own.drug_order) if rel == "features/drug/fp.csv" else ("expr", own.mirna_order)
            matrix = (own.drug_features if key == "fp" else own.mirna_features).copy()
            matrix[order[r - 1], c - 1] = float(token)
            # a row too large to sum is an error too (rows are divided by their sums)
            if np.isfinite(np.abs(matrix).sum(axis=1)).all():
                changes = {key: matrix}
    elif kind == "unknown_name":
        if rel in ("drugs.csv", "mirnas.csv"):
            return  # renaming in the defining table is tested through the tables that refer to it
        r = data.draw(st.integers(1, len(rows) - 1), label="name row")
        c = data.draw(st.sampled_from([0, 1] if rel == "associations.csv" else [0]), label="name column")
        rows[r][c] = data.draw(st.sampled_from([rows[r][c] + "x", rows[r][c].swapcase(), "", " "]))
        if rows[r][c].strip() in (own.drugs + own.mirnas) and rows[r][c].strip() == tables[rel][r][c]:
            return  # swapcase of a name without letters changes nothing
    elif kind == "empty":
        text = data.draw(st.sampled_from([b"", b"\r\n", b"  \n\n", b"\xef\xbb\xbf"]))
    elif kind == "header_only":
        rows = rows[:1]
    elif kind == "one_row_wrong_delimiter":
        r = data.draw(st.integers(1, len(rows) - 1))
        text = render(rows[:r]) + render([rows[r]], delimiter=";") + render(rows[r + 1:])
    elif kind == "not_utf8":
        text = render(rows).replace(b"\n", b"\xff\n", 1)
    else:
        text = render(rows).replace(b"\n", b"\0\n", 1)
    files = {name: render(content) for name, content in tables.items()}
    files[rel] = text if text is not None else render(rows)
    with own_directory(files) as root:
        outcome = load_or_error(load_own_dataset, root)
    if changes is None:
        assert isinstance(outcome, DataError), (kind, rel)
    else:
        assert isinstance(outcome, Dataset), outcome
        own.check(outcome, changes)
