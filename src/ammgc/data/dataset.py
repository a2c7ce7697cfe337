"""The one dataset object every other part of the tool consumes."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from ammgc.data.publications import Publications
from ammgc.errors import DataError, DownloadError

Entity = Literal["drug", "mirna"]


@dataclass(frozen=True)
class FeatureView:
    """One feature matrix of drugs or miRNAs, with where it came from.

    Rows follow the dataset's drug (or miRNA) order. ``source`` names the file it was read from
    or the computation that produced it; ``blob_sha1`` identifies the input file's content.
    """

    name: str
    entity: Entity
    matrix: np.ndarray
    source: str
    blob_sha1: str | None = None
    note: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "entity": self.entity, "shape": list(self.shape),
                "source": self.source, "blob_sha1": self.blob_sha1, "note": self.note}


@dataclass(frozen=True)
class Dataset:
    """Drugs, miRNAs, the 0/1 drug x miRNA association matrix and the feature views.

    ``drugs`` has columns ``name``, ``cid``, ``mesh``, ``smiles`` (missing values are empty strings);
    ``mirnas`` has ``name`` and, where known, ``sequence``. Index order is the published order.
    ``publications``, where known, says where and when each association was reported (the study and
    time splits need it; see ``ammgc.data.publications``).
    """

    associations: np.ndarray
    drugs: pd.DataFrame
    mirnas: pd.DataFrame
    views: dict[str, FeatureView] = field(default_factory=dict)
    source: str = ""
    name: str = "dataset"
    publications: Publications | None = None
    #: whether this is the paper's benchmark, beside which results show the paper's numbers
    paper: ClassVar[bool] = False

    def __post_init__(self) -> None:
        a = self.associations
        if a.ndim != 2 or a.shape != (len(self.drugs), len(self.mirnas)):
            raise DataError(f"association matrix has shape {a.shape}, expected "
                            f"({len(self.drugs)} drugs, {len(self.mirnas)} miRNAs)", file=self.source)
        if not np.isin(a, (0, 1)).all():
            raise DataError("association matrix must be 0/1", file=self.source)
        if self.publications is not None and not np.array_equal(self.publications.pairs, np.argwhere(a == 1)):
            raise DataError("publications do not describe this dataset's associations", file=self.source)
        for view in self.views.values():
            expected = self.n_drugs if view.entity == "drug" else self.n_mirnas
            if view.matrix.shape[0] != expected:
                raise DataError(f"view {view.name!r} has {view.matrix.shape[0]} rows, expected "
                                f"{expected} ({view.entity}s)", file=view.source)
            _check_finite(view, self.drugs if view.entity == "drug" else self.mirnas)

    @property
    def n_drugs(self) -> int:
        return int(self.associations.shape[0])

    @property
    def n_mirnas(self) -> int:
        return int(self.associations.shape[1])

    @property
    def n_associations(self) -> int:
        return int(self.associations.sum())

    @property
    def density(self) -> float:
        return self.n_associations / float(self.associations.size)

    @property
    def drug_names(self) -> list[str]:
        return [str(n) for n in self.drugs["name"]]

    @property
    def mirna_names(self) -> list[str]:
        return [str(n) for n in self.mirnas["name"]]

    def positive_pairs(self) -> np.ndarray:
        """(N, 2) array of (drug index, miRNA index) of known associations, row-major order."""
        return np.argwhere(self.associations == 1)

    def unobserved_pairs(self) -> np.ndarray:
        """(M, 2) array of (drug index, miRNA index) pairs with no known association."""
        return np.argwhere(self.associations == 0)

    def view(self, name: str) -> FeatureView:
        try:
            return self.views[name]
        except KeyError:
            raise DataError(f"feature view {name!r} is not available; present: "
                            f"{', '.join(sorted(self.views)) or 'none'}") from None

    def with_views(self, *views: FeatureView) -> Dataset:
        return replace(self, views={**self.views, **{v.name: v for v in views}})

    def find_publications(self, *, fetch: bool = True) -> Publications | None:
        """The publications of the associations where the dataset does not carry them: None where this kind of
        dataset has nowhere to find them (own data: its table gives them or not); the benchmark's ship with
        it (``BenchmarkDataset``). A source that fails is a ``DataError`` or ``DownloadError``."""
        return None

    def with_publications(self, *, fetch: bool = True) -> Dataset:
        """The dataset with the publications of its associations, or an error saying what to add."""
        if self.publications is not None:
            return self
        found = self.find_publications(fetch=fetch)
        if found is None:
            raise DataError("this dataset has no publication of its associations, which the study and time "
                            "splits need: add a `pmid` column (or `source` and `year` columns) to its association "
                            "table", file=self.source)
        return replace(self, publications=found)

    def attach_publications(self, use: str) -> Dataset:
        """The dataset with its publications where a method ``required`` them (an error if they cannot be had)
        or can use them (``optional``: attached where they can be had; where their source fails, a warning,
        and the method counts pairs)."""
        if use == "unused" or self.publications is not None:
            return self
        if use == "required":
            return self.with_publications()
        try:
            found = self.find_publications()
        except (DataError, DownloadError) as exc:
            warnings.warn(f"no publications ({exc}); study counts fall back to pair counts", stacklevel=2)
            return self
        return self if found is None else replace(self, publications=found)

    def with_associations(self, associations: np.ndarray) -> Dataset:
        # publications describe the known associations: a different matrix no longer matches them
        return replace(self, associations=associations, publications=None)

    def summary(self) -> dict[str, object]:
        drug_deg = self.associations.sum(axis=1)
        mirna_deg = self.associations.sum(axis=0)
        return {
            "name": self.name,
            "source": self.source,
            "drugs": self.n_drugs,
            "mirnas": self.n_mirnas,
            "associations": self.n_associations,
            "density": self.density,
            "drug_degree": _degree_summary(drug_deg),
            "mirna_degree": _degree_summary(mirna_deg),
            "views": [v.describe() for v in self.views.values()],
        }


def cell_text(value: object) -> str:
    """A table cell as text: missing (None, NaN) is empty."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _degree_summary(deg: np.ndarray) -> dict[str, float]:
    return {"min": int(deg.min()), "median": float(np.median(deg)), "mean": float(deg.mean()),
            "max": int(deg.max()), "zero": int((deg == 0).sum())}


def _check_finite(view: FeatureView, entities: pd.DataFrame) -> None:
    """Every feature value a finite number: a NaN or infinity would turn the row's normalisation, and with it
    every score, into NaN."""
    matrix = np.asarray(view.matrix)
    if matrix.ndim != 2 or not (np.issubdtype(matrix.dtype, np.number) or matrix.dtype == bool):
        raise DataError(f"view {view.name!r} is not a 2-D numeric matrix (shape {matrix.shape}, dtype "
                        f"{matrix.dtype})", file=view.source)
    bad = ~np.isfinite(matrix)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(f"view {view.name!r}, {view.entity} {entities['name'].iloc[i]!r} (row {int(i) + 1}), "
                        f"column {int(j) + 1}: feature value {matrix[i, j]} is not a finite number",
                        file=view.source)
