"""Readers that check inputs at the boundary and fail with one clear error naming file, row and problem."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ammgc.errors import DataError

PathLike = str | os.PathLike[str]


def read_text(path: PathLike) -> str:
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=p)
    raw = p.read_bytes()
    if not raw.strip():
        raise DataError("file is empty", file=p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not a UTF-8 text file (byte {exc.start})", file=p) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_matrix(path: PathLike, *, delimiter: str = "\t", rows: int | None = None,
                columns: int | None = None, binary: bool = False, integer: bool = False) -> np.ndarray:
    """Read a headerless numeric matrix, checking every cell.

    Rows are numbered from 1 as in a text editor. A wrong delimiter shows up as a one-column
    table with text cells and is reported as such.
    """
    p = Path(path)
    lines = [line for line in read_text(p).split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    data: list[list[float]] = []
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
        row: list[float] = []
        for col, cell in enumerate(cells, start=1):
            try:
                value = float(cell)
            except ValueError:
                raise DataError(f"not a number: {cell[:30]!r}", file=p, row=number, column=col) from None
            if not np.isfinite(value):
                raise DataError(f"not a finite number: {cell!r}", file=p, row=number, column=col)
            if binary and value not in (0.0, 1.0):
                raise DataError(f"expected 0 or 1, found {cell!r}", file=p, row=number, column=col)
            if integer and value != int(value):
                raise DataError(f"expected an integer, found {cell!r}", file=p, row=number, column=col)
            row.append(value)
        data.append(row)
    matrix = np.asarray(data, dtype=np.float64)
    if rows is not None and matrix.shape[0] != rows:
        raise DataError(f"has {matrix.shape[0]} rows, expected {rows}", file=p)
    if columns is not None and matrix.shape[1] != columns:
        raise DataError(f"has {matrix.shape[1]} columns, expected {columns}", file=p)
    return matrix


def read_excel(path: PathLike, *, header: int | None) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", file=p)
    try:
        return pd.read_excel(io.BytesIO(p.read_bytes()), header=header, dtype=object)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise DataError(f"unreadable Excel workbook ({type(exc).__name__}: {exc})", file=p) from None


def check_unique(names: list[str], *, what: str, file: object) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        key = name.strip().lower()
        if not key:
            raise DataError(f"empty {what} name", file=file, row=i + 1)
        if key in seen:
            raise DataError(f"duplicate {what} name {name!r} (also row {seen[key] + 1})", file=file, row=i + 1)
        seen[key] = i


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "a tab", ",": "a comma", " ": "whitespace", ";": "a semicolon"}.get(delimiter, repr(delimiter))
