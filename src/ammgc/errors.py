"""The project's own error types: every user-facing failure is one of these, with a clear message."""


class AmmgcError(Exception):
    """Base class of every error the tool reports to a user (never a bare traceback)."""


class DataError(AmmgcError):
    """An input file or table is missing, corrupt or inconsistent.

    The message names the file, the row/column where known, and the problem.
    """

    def __init__(self, problem: str, *, file: object = None, row: int | None = None,
                 column: object = None) -> None:
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        self.file, self.row, self.column, self.problem = file, row, column, problem
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class DownloadError(AmmgcError):
    """A file could not be fetched or failed verification."""


class TrainingError(AmmgcError):
    """Training diverged (NaN or infinite loss) or could not proceed."""


class ModelFileError(AmmgcError):
    """A saved model file is corrupt, tampered with, or from an incompatible version."""


class MethodError(AmmgcError):
    """A method (a user's class especially) cannot be imported, lacks the method contract, fails in ``fit`` or
    returns scores that are not a finite p x q matrix. The message names the method and, where known, the fold."""
