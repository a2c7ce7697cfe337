"""The method contract every part of ammgc evaluates, trains and ranks with, and the registry that names methods.

A method is any object with

* ``fit(dataset, train=None, *, seed=None) -> self``: learn from ``dataset`` (an ``ammgc.data.Dataset``) and the
  training association matrix ``train`` (p x q, 0/1; held-out pairs are 0 there; ``None``: every known
  association);
* ``predict_scores() -> array``: the p x q scores of every drug x miRNA pair (higher = more likely associated), a
  numeric array (or anything ``numpy.asarray`` makes one of) with every value finite.

What ``fit`` returns is not used: the object ``fit`` was called on is the fitted method (returning ``self``, as
scikit-learn does, is customary; ``None`` is fine). That is all a user's class needs (it inherits nothing from
ammgc): ``cross_validate``, ``ammgc cv --method module:Class`` and ``ammgc compare`` run it as they run the
built-in methods; a class that breaks the contract (or raises) is a ``MethodError`` naming it and the fold. With
fold processes (``jobs`` > 1) its objects are sent to them by pickle, so the class must be importable there (defined
in a module, not in an interactive session). Optional attributes say what
differs between methods, so no caller asks for a method by name: ``get_params()`` (parameters, for ``clone``
and the records), ``publications_use`` (``required`` / ``optional`` / ``unused``: whether ``fit`` reads
``dataset.publications``), ``prepare(dataset) -> Dataset`` (compute once, before any fold, what ``fit`` reads)
and ``inputs(dataset)`` (which views it reads, for the records and the resume fingerprint).

The built-in methods derive from ``Method``: hyper-parameters are the fields of a dataclass ``Config``, their
constraints are declared beside it (``parameters``, see ``ammgc.params``) and checked when ``fit`` starts,
in one place for every method. The contract follows scikit-learn's: parameters only in ``__init__``,
``get_params`` / ``set_params`` (``sklearn.base.clone`` works), a ``repr`` that shows what differs from the
defaults, fitted state in attributes ending in ``_``, and a clear error for ``predict_scores`` before ``fit``.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal, Self

import numpy as np

from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError, MethodError
from ammgc.params import Constraint, check_params, check_seed

PublicationsUse = Literal["required", "optional", "unused"]


class NotFittedError(AmmgcError, AttributeError):
    """``predict_scores`` (or anything that needs a trained model) was called before ``fit``."""


class Method(ABC):
    """Base class: subclasses define ``name``, a ``Config`` dataclass, its ``parameters`` constraints,
    ``_fit`` and ``_score``."""

    name: ClassVar[str]
    #: whether ``fit`` reads the dataset's feature views
    uses_features: ClassVar[bool] = False
    #: the preset this object was built as (``get("popularity-studies")``), else None
    preset: str | None = None
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

    def changed_params(self) -> dict[str, Any]:
        """The parameters that differ from the defaults."""
        default = self.Config()
        return {k: v for k, v in self.get_params().items() if k != "random_state" and getattr(default, k, None) != v}

    def __repr__(self) -> str:
        params = {**self.changed_params(), **({"random_state": self.random_state} if self.random_state is not None
                                              else {})}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"

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
        dataset = self.prepare(dataset)
        train = check_train(train, dataset)
        seed = check_seed(seed if seed is not None else self.random_state if self.random_state is not None else 0)
        self._fitted = False
        self._fit(train, dataset, seed=seed)
        self._fitted = True
        return self

    def predict_scores(self, pairs: Any = None) -> np.ndarray:
        """The p x q score matrix (higher = more likely associated), or the scores of ``pairs`` (an n x 2 array
        of drug, miRNA indices)."""
        if not getattr(self, "_fitted", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(dataset) first")
        scores = self._score()
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

    @property
    def publications_use(self) -> PublicationsUse:
        """Whether ``fit`` reads the publications of the training pairs (``dataset.publications``):
        ``required``, ``optional`` (used where the dataset has them) or ``unused``."""
        return "unused"

    def prepare(self, dataset: Dataset) -> Dataset:
        """The dataset with what ``fit`` reads: the publications where the method counts them (an error where it
        requires them and they cannot be had). ``cross_validate`` calls it once before the folds."""

        return dataset.attach_publications(self.publications_use)

    def inputs(self, dataset: Dataset) -> dict[str, Any]:
        """The views ``fit`` reads: every view of the dataset for a method that reads features, else none."""
        read = sorted(dataset.views) if self.uses_features else []
        return {"drug": [v for v in read if dataset.views[v].entity == "drug"],
                "mirna": [v for v in read if dataset.views[v].entity == "mirna"], "go_substitute": False}

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


#: Named configurations of registered methods: ``get(name)`` builds each as a method object.
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    # the paper's epochs, no degree prior: the configuration of the paper's own experiments
    "ammgc-paper": ("ammgc", {"epochs_gcn": 400, "epochs_attention": 1000, "degree_prior": 0.0,
                              "prior_in_training": 0.0, "prior_counts": "pairs"}),
    # with a degree prior: the configuration chosen on the paper's random pair folds
    "ammgc-pairs": ("ammgc", {"epochs_gcn": 100, "epochs_attention": 200, "degree_prior": 2.0,
                              "prior_in_training": 0.0, "prior_counts": "pairs"}),
    # CF over miRNAs: co-reported miRNAs vote; strong on random pair folds, the memoriser to watch
    "cf-mirna": ("cf", {"side": "mirna", "neighbours": 50}),
    # popularity by how many publications reported each drug and miRNA: the strongest prior found
    "popularity-studies": ("popularity", {"counts": "studies", "smoothing": 1.0}),
}


def names() -> list[str]:
    """Every name ``get`` takes besides ``module:Class``: the registered methods, then the presets."""
    return [*REGISTRY, *PRESETS]


def get(name: str, **params: Any) -> Any:
    """A method object by name: a registered method, a preset, or ``module:Class`` (a class importable from the
    Python path, built with ``params``). ``params`` override the preset's; a preset object remembers its name
    in ``preset``."""
    if not isinstance(name, str) or not name.strip():
        shown = repr(name) if isinstance(name, str) else f"a {type(name).__name__}"
        raise MethodError(f"a method name must be a non-empty string, not {shown}; choose one of "
                          f"{', '.join(names())} or give module:Class")
    name = name.strip()
    if name in PRESETS:
        registered, preset = PRESETS[name]
        method = method_class(registered)(**{**preset, **params})
        method.preset = name
        return method
    if name in REGISTRY:
        return method_class(name)(**params)
    if ":" in name:
        cls = import_class(name)
        try:
            method = cls(**params)
        except Exception as exc:  # a user's constructor: any failure is theirs to read, in one line
            raise MethodError(f"{name}: cannot be built with {params or 'no arguments'} "
                              f"({type(exc).__name__}: {exc})") from None
        check_method(method, name)
        return method
    raise MethodError(f"unknown method {name!r}; choose one of {', '.join(names())}, or give module:Class for "
                      f"a class of your own")


def method_class(name: str) -> type[Method]:
    """The class of a registered method."""
    try:
        target = REGISTRY[name]
    except KeyError:
        raise MethodError(f"unknown method {name!r}; choose one of {', '.join(REGISTRY)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def import_class(spec: str) -> type:
    """``module:Class`` imported from the Python path, or a ``MethodError`` saying what is wrong."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise MethodError(f"{spec!r} is not module:Class (e.g. mymodule:MyMethod)")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: ImportError, SyntaxError or anything its import raises
        raise MethodError(f"{spec}: cannot import module {module_name!r} ({type(exc).__name__}: {exc}); it must "
                          f"be importable from the Python path (the current directory or PYTHONPATH)") from None
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise MethodError(f"{spec}: module {module_name!r} has no {attribute!r}")
    if not isinstance(target, type):
        raise MethodError(f"{spec}: {attribute!r} is not a class (it is of type {type(target).__name__})")
    return target


def check_method(method: Any, what: str | None = None) -> None:
    """The method contract: callable ``fit(dataset, train=None, *, seed=None)`` and ``predict_scores()``."""
    missing = [m for m in ("fit", "predict_scores") if not callable(getattr(method, m, None))]
    if missing:
        raise MethodError(f"{what or label(method)}: a method needs {' and '.join(missing)} (the contract: "
                          f"fit(dataset, train=None, *, seed=None) -> self, predict_scores() -> p x q scores)")


def label(method: Any) -> str:
    """The name results are filed under: the preset's, the registered method's, or ``module:Class``."""
    if getattr(method, "preset", None):
        return str(method.preset)
    return registered_name(method)


def registered_name(method: Any) -> str:
    """The registered method behind an object (``ammgc`` for every AMMGC preset), or ``module:Class``."""
    if isinstance(method, Method):
        return method.name
    cls = type(method)
    return f"{cls.__module__}:{cls.__qualname__}"


def params_of(method: Any) -> dict[str, Any]:
    """The method's parameters, as results record them: every field for built-in methods (defaults included),
    ``get_params()`` for a class that has it, else none."""
    if isinstance(method, Method):
        return method.config_dict()
    get_params = getattr(method, "get_params", None)
    return dict(get_params()) if callable(get_params) else {}


def clone(method: Any) -> Any:
    """An unfitted copy with the same parameters (scikit-learn's ``clone``; a deep copy for classes without
    ``get_params``)."""
    if isinstance(method, Method):
        copy_ = type(method)(dataclasses.replace(method.config), random_state=method.random_state)
        copy_.preset = getattr(method, "preset", None)
        return copy_
    get_params = getattr(method, "get_params", None)
    if callable(get_params):
        try:
            return type(method)(**get_params())
        except TypeError:
            pass  # get_params does not mirror __init__: copy the object instead
    return copy.deepcopy(method)


def publications_use(method: Any) -> PublicationsUse:
    """Whether the method reads the dataset's publications: its ``publications_use`` attribute, else unused."""
    use = getattr(method, "publications_use", "unused")
    if use not in ("required", "optional", "unused"):
        raise MethodError(f"{label(method)}: publications_use must be 'required', 'optional' or 'unused', "
                          f"not {use!r}")
    return use


def prepare(method: Any, dataset: Dataset) -> Dataset:
    """The dataset with what the method reads computed once (its ``prepare`` hook: AMMGC computes its views and
    attaches publications), before any fold; unchanged for methods without the hook."""
    hook = getattr(method, "prepare", None)
    if not callable(hook):
        return dataset
    prepared = hook(dataset)
    if not isinstance(prepared, Dataset):
        raise MethodError(f"{label(method)}: prepare(dataset) must return a Dataset, not {type(prepared).__name__}")
    return prepared


def inputs(method: Any, dataset: Dataset) -> dict[str, Any] | None:
    """What the method reads of the dataset (views and their record) where it says so (its ``inputs`` hook)."""
    hook = getattr(method, "inputs", None)
    return hook(dataset) if callable(hook) else None


def scores_of(method: Any, dataset: Dataset, where: str = "") -> np.ndarray:
    """The fitted method's p x q scores, checked: a numeric array of the dataset's shape, every value finite."""
    what = f"{label(method)}{f' ({where})' if where else ''}"
    try:
        scores = method.predict_scores()
    except MethodError:
        raise
    except AmmgcError as exc:
        raise type(exc)(f"{what}: {exc}") from None
    except Exception as exc:
        raise MethodError(f"{what}: predict_scores() failed ({type(exc).__name__}: {exc})") from None
    expected = dataset.associations.shape
    if scores is None:
        raise MethodError(f"{what}: predict_scores() returned None; it must return the {expected[0]} x {expected[1]} "
                          f"scores (drugs x miRNAs)")
    try:
        array = np.asarray(scores)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise MethodError(f"{what}: predict_scores() must return a p x q array of numbers ({exc})") from None
    # numbers only: numeric strings would convert silently, objects and complex numbers do not rank
    if array.dtype.kind not in "biuf":
        raise MethodError(f"{what}: predict_scores() must return numbers, not {type(scores).__name__} of "
                          f"{array.dtype}")
    matrix = array.astype(np.float64, copy=False)
    if matrix.shape != expected:
        raise MethodError(f"{what}: predict_scores() returned shape {matrix.shape}; expected {expected} "
                          f"(drugs x miRNAs)")
    bad = ~np.isfinite(matrix)
    if bad.any():
        d, m = (int(i) for i in np.argwhere(bad)[0])
        raise MethodError(f"{what}: predict_scores() returned {int(bad.sum())} NaN or infinite score(s), the first "
                          f"at drug {dataset.drug_names[d]!r} x miRNA {dataset.mirna_names[m]!r}")
    return matrix


def fit_method(method: Any, dataset: Dataset, train: np.ndarray, *, seed: int, where: str = "") -> Any:
    """``method.fit(dataset, train, seed=seed)``; a user's method failing there is one ``MethodError`` naming it."""
    try:
        method.fit(dataset, train, seed=seed)
    except AmmgcError as exc:
        if isinstance(method, Method):
            raise type(exc)(f"{where}: {exc}" if where else str(exc)) from None
        raise MethodError(f"{label(method)}{f' ({where})' if where else ''}: fit failed: {exc}") from None
    except Exception as exc:
        if isinstance(method, Method):
            raise
        raise MethodError(f"{label(method)}{f' ({where})' if where else ''}: fit failed "
                          f"({type(exc).__name__}: {exc})") from None
    return method
