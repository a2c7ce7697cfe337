"""Readers that check inputs at the boundary and fail with one clear error naming file, row and problem."""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc.errors import DataError

PathLike = str | os.PathLike[str]

# Plain ASCII decimal numbers only: float() would also take "nan", "inf", "1_000" and non-ASCII digits,
# which in a data file are corruption, not values.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
DELIMITERS = (",", "\t", ";")


def read_text(path: PathLike) -> str:
    """The file's text with a UTF-8 BOM removed and line ends made ``\\n``; empty files are an error."""
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", file=p) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not a UTF-8 text file (byte {exc.start})", file=p) from None
    if not text.strip():
        raise DataError("file is empty", file=p)
    if "\0" in text:
        raise DataError("contains NUL bytes; not a text file", file=p)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_number(cell: str) -> bool:
    return _NUMBER.fullmatch(cell.strip()) is not None


def read_matrix(path: PathLike, *, delimiter: str = "\t", rows: int | None = None,
                columns: int | None = None, binary: bool = False, integer: bool = False) -> np.ndarray:
    """Read a headerless numeric matrix, checking every cell.

    Rows are numbered from 1 as in a text editor. A wrong delimiter shows up as a one-column
    table with text cells and is reported as such.
    """
    p = Path(path)
    lines = read_text(p).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    data: list[list[str]] = []
    width: int | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError("blank line inside the matrix", file=p, row=number)
        cells = line.strip().split(delimiter) if delimiter != " " else line.split()
        if width is None:
            width = len(cells)
            if width == 1 and columns not in (None, 1):
                raise DataError(f"found 1 column, expected {columns}; is the delimiter "
                                f"{_delimiter_name(delimiter)}?", file=p, row=number)
        elif len(cells) != width:
            raise DataError(f"has {len(cells)} columns, earlier rows have {width}", file=p, row=number)
        if not all(map(_NUMBER.fullmatch, map(str.strip, cells))):
            col = next(i for i, c in enumerate(cells, start=1) if not is_number(c))
            bad = cells[col - 1]
            raise DataError(f"not a number: {bad[:30]!r}{_delimiter_hint(bad, delimiter)}",
                            file=p, row=number, column=col)
        data.append(cells)
    matrix = np.array(data, dtype=np.float64)
    _check_values(matrix, p, binary=binary, integer=integer)
    if rows is not None and matrix.shape[0] != rows:
        raise DataError(f"has {matrix.shape[0]} rows, expected {rows}", file=p)
    if columns is not None and matrix.shape[1] != columns:
        raise DataError(f"has {matrix.shape[1]} columns, expected {columns}", file=p)
    return matrix


def _check_values(matrix: np.ndarray, path: Path, *, binary: bool = False, integer: bool = False,
                  row_numbers: Sequence[int] | None = None, first_column: int = 1) -> None:
    """Finite everywhere (digits overflowing a float become inf), and 0/1 or whole numbers if asked."""
    checks = [(~np.isfinite(matrix), "not a finite number (too large for a float)")]
    if binary:
        checks.append((~np.isin(matrix, (0.0, 1.0)), "expected 0 or 1"))
    if integer:
        with np.errstate(invalid="ignore"):
            checks.append((matrix != np.floor(matrix), "expected an integer"))
    for bad, problem in checks:
        if bad.any():
            i, j = np.argwhere(bad)[0]
            row = row_numbers[i] if row_numbers is not None else int(i) + 1
            raise DataError(f"{problem}, found {matrix[i, j]:g}", file=path, row=row,
                            column=int(j) + first_column)


def read_excel(path: PathLike, *, header: int | None) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=p)
    try:
        return pd.read_excel(io.BytesIO(p.read_bytes()), header=header, dtype=object)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise DataError(f"unreadable Excel workbook ({type(exc).__name__}: {exc})", file=p) from None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``did you mean`` hint for a name that matched nothing (case first, then spelling), or ``""``."""
    pool = list(candidates)
    folded = [c for c in pool if c.lower() == name.lower()]
    close = folded or difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Table:
    """A delimited text table: header cells, data rows (cells stripped) and each row's line number."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    line_numbers: list[int]
    delimiter: str

    def column(self, name: str) -> int | None:
        """Index of the column called ``name`` (ignoring case), or None."""
        lowered = [h.lower() for h in self.header]
        return lowered.index(name.lower()) if name.lower() in lowered else None


def read_table(path: PathLike) -> Table:
    """Read a CSV/TSV table with a header row; the delimiter (comma, tab, semicolon) is sniffed.

    BOM and CRLF are tolerated, blank lines skipped, cells stripped. Every row must have as many
    fields as the header.
    """
    p = Path(path)
    text = read_text(p)
    first = next(line for line in text.split("\n") if line.strip())
    delimiter = sniff_delimiter(first, p)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    try:
        for cells in reader:
            cells = [unicodedata.normalize("NFC", c.strip()) for c in cells]  # one spelling of each accent
            if not any(cells):
                continue
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise DataError(f"has {len(cells)} fields, the header has {len(header)}"
                                f"{_field_hint(cells, header, delimiter)}", file=p, row=reader.line_num)
            rows.append(cells)
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"not a valid delimited table: {exc}", file=p, row=reader.line_num) from None
    assert header is not None  # read_text guarantees a non-blank line
    return Table(p, header, rows, numbers, delimiter)


def sniff_delimiter(header_line: str, path: Path) -> str:
    """The delimiter that splits the header line into the most fields (comma if it has one field)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    best = max(counts.values())
    winners = [d for d, n in counts.items() if n == best]
    if best > 1 and len(winners) > 1:
        raise DataError(f"cannot tell the delimiter: the header splits into {best} fields on both "
                        f"{' and '.join(_delimiter_name(d) for d in winners)}", file=path, row=1)
    return winners[0]


def parse_numeric_rows(table: Table, *, first_column: int = 1) -> np.ndarray:
    """The cells from ``first_column`` on as a float matrix; any non-number, NaN or inf is an error."""
    for cells, line in zip(table.rows, table.line_numbers, strict=True):
        for j in range(first_column, len(cells)):
            if not _NUMBER.fullmatch(cells[j]):
                what = "empty cell" if not cells[j] else f"not a number: {cells[j][:30]!r}"
                raise DataError(what, file=table.path, row=line, column=j + 1)
    matrix = np.array([cells[first_column:] for cells in table.rows], dtype=np.float64)
    matrix = matrix.reshape(len(table.rows), len(table.header) - first_column)
    _check_values(matrix, table.path, row_numbers=table.line_numbers, first_column=first_column + 1)
    return matrix


def find_mean_imputed_rows(matrix: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9) -> np.ndarray:
    """Mask of rows that are copies of the mean of the other rows (how missing profiles get imputed).

    The most repeated row is a candidate; it counts only if it appears at least twice and equals
    the mean of the remaining rows.
    """
    mask = np.zeros(matrix.shape[0], dtype=bool)
    if matrix.shape[0] < 3:
        return mask
    unique, inverse, counts = np.unique(matrix, axis=0, return_inverse=True, return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] < 2 or counts[top] == matrix.shape[0]:
        return mask
    candidate = np.asarray(inverse).reshape(-1) == top
    if np.allclose(unique[top], matrix[~candidate].mean(axis=0), rtol=rtol, atol=atol):
        mask = candidate
    return mask


def _delimiter_name(delimiter: str) -> str:
    names = {"\t": "a tab", ",": "a comma", " ": "whitespace", ";": "a semicolon"}
    return names.get(delimiter, repr(delimiter))


def _delimiter_hint(cell: str, delimiter: str) -> str:
    others = [d for d in (*DELIMITERS, " ") if d != delimiter and d in cell.strip()]
    return f"; expected {_delimiter_name(delimiter)} between values, found {_delimiter_name(others[0])}" \
        if others else ""


def _field_hint(cells: list[str], header: list[str], delimiter: str) -> str:
    if len(cells) > len(header):
        return f" (a value containing {_delimiter_name(delimiter)} must be quoted)"
    others = [d for d in (*DELIMITERS, " ") if d != delimiter and any(d in c for c in cells)]
    if others:
        return (f" (this row seems to use {_delimiter_name(others[0])}, "
                f"the header {_delimiter_name(delimiter)})")
    return ""
