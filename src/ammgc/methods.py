"""One interface for every method, from popularity to AMMGC, and the registry that names them.

Every method answers two questions: ``fit(dataset, train, seed=)`` learns from the training
association matrix (p x q, 0/1; held-out pairs are 0 there) and the dataset's feature views,
and ``score()`` returns a p x q matrix of scores (higher = more likely associated). Hyper-parameters
are the fields of a dataclass ``Config`` nested in each method, so they serialise into metrics.json;
their constraints are declared beside it (``parameters``, see ``ammgc.params``) and checked when
``fit`` starts, with the training matrix, in one place for every method. The contract follows
scikit-learn's: parameters only in ``__init__``, ``get_params`` / ``set_params`` (``sklearn.base.clone``
works), a ``repr`` that shows what differs from the defaults, and a clear error for ``score`` before
``fit``.
"""

from __future__ import annotations

import dataclasses
import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal, Self

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.params import Constraint, check_params, check_seed

PublicationsUse = Literal["required", "optional", "unused"]


class NotFittedError(AmmgcError, AttributeError):
    """``score`` (or anything that needs a trained model) was called before ``fit``."""


class Method(ABC):
    """Base class: subclasses define ``name``, a ``Config`` dataclass, its ``parameters`` constraints,
    ``_fit`` and ``_score``."""

    name: ClassVar[str]
    uses_features: ClassVar[bool] = False
    #: parameter name -> its constraint; every field of ``Config`` has one
    parameters: ClassVar[dict[str, Constraint]] = {}

    @dataclasses.dataclass
    class Config:
        pass

    def __init__(self, config: Any = None, *, random_state: int | None = None, **overrides: Any) -> None:
        base = config if config is not None else self.Config()
        self._check_names(overrides)
        self.config = dataclasses.replace(base, **overrides) if overrides else base
        # the seed of fit when it is given none (scikit-learn's name); not part of the method's configuration,
        # whose runs take their seed from the protocol (each fold's own)
        self.random_state = random_state
        self._fitted = False

    @classmethod
    def _check_names(cls, params: dict[str, Any]) -> None:
        valid = [f.name for f in dataclasses.fields(cls.Config)]
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise AmmgcError(f"method {cls.name!r} has no option(s) {unknown}; valid: {sorted(valid)}")

    # --- the estimator contract ---------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, as ``__init__`` takes them."""
        return {**{f.name: getattr(self.config, f.name) for f in dataclasses.fields(self.config)},
                "random_state": self.random_state}

    def set_params(self, **params: Any) -> Self:
        if "random_state" in params:
            self.random_state = params.pop("random_state")
        self._check_names(params)
        self.config = dataclasses.replace(self.config, **params)
        return self

    def check_params(self) -> None:
        """Every parameter against its declared constraint (``ParameterError`` naming the first that is not)."""
        params = self.get_params()
        if params["random_state"] is not None:
            check_seed(params["random_state"], what="random_state")
        check_params(self.name, params, self.parameters)

    def __repr__(self) -> str:
        default = self.Config()
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if getattr(default, k, None) != v]
        return f"{type(self).__name__}({', '.join(changed)})"

    def fit(self, dataset: Dataset, train: np.ndarray | None = None, *, seed: int | None = None) -> Self:
        """Learn from ``dataset``'s feature views and the training association matrix ``train`` (p x q, 0/1;
        held-out pairs are 0 there), by default every known association of the dataset. The seed is ``seed``,
        else ``random_state``, else 0. Parameters, matrix and seed are checked first."""
        if not isinstance(dataset, Dataset):
            raise AmmgcError(f"fit(dataset, train=None): the first argument must be an ammgc Dataset (e.g. "
                             f"ammgc.load_dataset()), not {type(dataset).__name__}")
        if train is None:
            train = dataset.associations
        elif isinstance(train, Dataset):
            raise AmmgcError("fit(dataset, train): train must be a p x q 0/1 matrix (e.g. a fold's training "
                             "matrix), not a Dataset")
        self.check_params()
        train = check_train(train, dataset)
        seed = check_seed(seed if seed is not None else self.random_state if self.random_state is not None else 0)
        self._fitted = False
        self._fit(train, dataset, seed=seed)
        self._fitted = True
        return self

    def score(self) -> np.ndarray:
        """Scores for every drug x miRNA pair, shape (p, q); higher = more likely associated."""
        if not getattr(self, "_fitted", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(dataset) first")
        return self._score()

    def predict_scores(self, pairs: Any = None) -> np.ndarray:
        """The p x q score matrix, or the scores of ``pairs`` (an n x 2 array of drug, miRNA indices)."""
        scores = self.score()
        if pairs is None:
            return scores
        index = np.asarray(pairs)
        if index.ndim != 2 or index.shape[1] != 2 or not np.issubdtype(index.dtype, np.integer):
            raise AmmgcError(f"pairs must be an n x 2 array of integer (drug, miRNA) indices, not shape "
                             f"{index.shape} of {index.dtype}")
        p, q = scores.shape
        outside = (index[:, 0] < 0) | (index[:, 0] >= p) | (index[:, 1] < 0) | (index[:, 1] >= q)
        if outside.any():
            raise AmmgcError(f"pair {tuple(int(v) for v in index[np.argmax(outside)])} is outside the "
                             f"{p} x {q} drugs x miRNAs")
        return scores[index[:, 0], index[:, 1]]

    @abstractmethod
    def _fit(self, train: np.ndarray, dataset: Dataset, *, seed: int) -> None:
        """Learn from a checked training matrix."""

    @abstractmethod
    def _score(self) -> np.ndarray:
        """The p x q scores of a fitted method."""

    def publications_use(self) -> PublicationsUse:
        """Whether ``fit`` reads the publications of the training pairs (``dataset.publications``):
        ``required``, ``optional`` (used where the dataset has them) or ``unused``."""
        return "unused"

    def config_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config)


def check_train(train: Any, dataset: Dataset) -> np.ndarray:
    """The training matrix as methods take it, or an error naming the problem: the dataset's p x q shape,
    finite 0/1 values, at least one known and one unobserved pair."""
    matrix = np.asarray(train)
    expected = dataset.associations.shape
    if matrix.shape != expected:
        raise AmmgcError(f"train matrix has shape {' x '.join(map(str, matrix.shape))}; the dataset has "
                         f"{expected[0]} drugs x {expected[1]} miRNAs")
    if not np.issubdtype(matrix.dtype, np.number) and matrix.dtype != bool:
        raise AmmgcError(f"train matrix must be numeric 0/1, not {matrix.dtype}")
    if not np.isin(matrix, (0, 1)).all():
        raise AmmgcError("train matrix must hold only 0 and 1 (known association = 1)")
    known = int(np.count_nonzero(matrix))
    if known == 0:
        raise AmmgcError("train matrix has no known association: there is nothing to learn from")
    if known == matrix.size:
        raise AmmgcError("train matrix marks every pair as known: there is nothing left to score")
    return matrix.astype(np.float32, copy=False) if matrix.dtype == bool else matrix


#: method name -> "module:Class"; adding a method is adding a module and one line here.
REGISTRY: dict[str, str] = {
    "ammgc": "ammgc.models.ammgc:AMMGC",
    "popularity": "ammgc.baselines.popularity:Popularity",
    "cf": "ammgc.baselines.cf:CollaborativeFiltering",
    "lp": "ammgc.baselines.lp:LabelPropagation",
    "gf": "ammgc.baselines.gf:GraphFactorization",
    "sdne": "ammgc.baselines.sdne:SDNE",
    "gcmdr": "ammgc.baselines.gcmdr:GCMDR",
}


#: Named configurations of registered methods, usable wherever a method name is (cv, compare, tune).
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    # the paper's epochs, no degree prior: the configuration of the paper's own experiments
    "ammgc-paper": ("ammgc", {"epochs_gcn": 400, "epochs_attention": 1000, "degree_prior": 0.0,
                              "prior_in_training": 0.0, "prior_counts": "pairs"}),
    # the default of ammgc 0.1: degree prior, chosen on the paper's random pair folds
    "ammgc-pairs": ("ammgc", {"epochs_gcn": 100, "epochs_attention": 200, "degree_prior": 2.0,
                              "prior_in_training": 0.0, "prior_counts": "pairs"}),
    # CF over miRNAs: co-reported miRNAs vote; strong on random pair folds, the memoriser to watch
    "cf-mirna": ("cf", {"side": "mirna", "neighbours": 50}),
    # popularity by how many publications reported each drug and miRNA: the strongest prior found
    "popularity-studies": ("popularity", {"counts": "studies", "smoothing": 1.0}),
}


def resolve_method(name: str) -> tuple[str, dict[str, Any]]:
    """A method or preset name -> (registered method, the preset's configuration)."""
    if name in PRESETS:
        method, config = PRESETS[name]
        return method, dict(config)
    method_class(name)
    return name, {}


def method_class(name: str) -> type[Method]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise AmmgcError(f"unknown method {name!r}; choose one of {', '.join([*REGISTRY, *PRESETS])}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def make_method(name: str, **config: Any) -> Method:
    """Build a registered method; unknown configuration keys are an error naming the valid ones."""
    return method_class(name)(**config)
