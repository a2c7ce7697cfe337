"""The estimator contract every method shares: parameters checked before any work, get/set_params and
clone, a useful repr, a clear error before fit, and the training matrix checked against the dataset."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.base import clone

from ammgc import methods
from ammgc.data.dataset import Dataset
from ammgc.errors import AmmgcError
from ammgc.methods import REGISTRY, NotFittedError
from ammgc.params import ParameterError

FAST = {"epochs_gcn": 2, "epochs_attention": 2, "hidden": (8, 8)}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_parameter_has_a_constraint_and_the_defaults_pass(name: str) -> None:
    method = methods.get(name)
    assert set(method.parameters) == set(method.get_params()) - {"random_state"}, name
    method.check_params()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("epochs_gcn", -3, "epochs_gcn=-3: must be an integer >= 1"),
    ("epochs_gcn", 1e3, "epochs_gcn=1000.0: must be an integer"),
    ("epochs_gcn", None, "epochs_gcn=None: must be an integer"),
    ("epochs_attention", -1, "epochs_attention=-1"),
    ("lr", 0, "lr=0: must be a finite number > 0"),
    ("p_neg", float("nan"), "p_neg=nan"),
    ("hidden", 128, "hidden=128: must be a non-empty list of integers"),
    ("hidden", [], "hidden=[]"),
    ("hidden", [10**9], "from 1 to 4096"),
    ("dropout", 1.5, "dropout=1.5"),
    ("fusion", "bogus", "fusion='bogus': must be one of 'softmax', 'linear', 'equal'"),
    ("drug_views", "fingerprint", "drug_views='fingerprint': must be a non-empty list of distinct view names"),
    ("mirna_views", [], "mirna_views=[]"),
    ("device", "gpu7", "device='gpu7': must be cpu, cuda, cuda:N or mps"),
    ("degree_prior", float("nan"), "degree_prior=nan"),
    ("prior_counts", "bogus", "prior_counts='bogus': must be one of"),
    ("prior_in_training", -1.0, "prior_in_training=-1.0: must be a finite number >= 0"),
])
def test_bad_ammgc_parameters_fail_before_any_training(planted: Dataset, option: str, value: object,
                                                        message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("(", r"\(")):
        methods.get("ammgc", **{option: value}).fit(planted)
    assert time.perf_counter() - start < 5  # refused up front, not after training


def test_unknown_parameter_names_the_valid_ones() -> None:
    with pytest.raises(AmmgcError, match=r"no option\(s\) \['hiden'\]; valid: \[.*'hidden'"):
        methods.get("ammgc", hiden=(8, 8))
    with pytest.raises(AmmgcError, match="no option"):
        methods.get("cf").set_params(k=3)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_score_before_fit_is_a_clear_error(name: str) -> None:
    with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
        methods.get(name).predict_scores()


@pytest.mark.parametrize(("matrix", "message"), [
    ("5x7", "train matrix has shape 5 x 7; the dataset has"),
    ("zeros", "no known association"),
    ("ones", "every pair as known"),
    ("twos", "only 0 and 1"),
    ("nan", "only 0 and 1"),
])
@pytest.mark.parametrize("name", ["popularity", "cf", "ammgc"])
def test_the_training_matrix_is_checked_against_the_dataset(planted: Dataset, name: str, matrix: str,
                                                             message: str) -> None:
    shape = planted.associations.shape
    train = {"5x7": np.zeros((5, 7)), "zeros": np.zeros(shape), "ones": np.ones(shape),
             "twos": planted.associations * 2, "nan": np.where(planted.associations == 1, np.nan, 0.0)}[matrix]
    with pytest.raises(AmmgcError, match=message):
        methods.get(name, **(FAST if name == "ammgc" else {})).fit(planted, train)


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, True])
def test_bad_seeds_are_refused(planted: Dataset, seed: object) -> None:
    with pytest.raises(ParameterError, match="seed="):
        methods.get("popularity").fit(planted, seed=seed)  # type: ignore[arg-type]


def test_get_set_params_clone_and_repr(planted: Dataset) -> None:
    model = methods.get("ammgc", epochs_gcn=7, hidden=(8, 8))
    assert model.get_params()["epochs_gcn"] == 7 and repr(model) == "AMMGC(hidden=(8, 8), epochs_gcn=7)"
    twin = clone(model)
    assert type(twin) is type(model) and twin.get_params() == model.get_params() and twin is not model
    assert model.set_params(epochs_gcn=3) is model and model.config.epochs_gcn == 3
    assert repr(methods.get("cf")) == "CollaborativeFiltering()"
    fitted = methods.get("popularity").fit(planted)
    assert fitted.predict_scores().shape == planted.associations.shape


def test_a_notebook_needs_one_import(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import ammgc

    monkeypatch.setenv("AMMGC_HOME", str(tmp_path))
    from ammgc import AMMGC, AmmgcError, NotFittedError, ParameterError, StudySplit, cross_validate, load_benchmark

    assert issubclass(NotFittedError, AmmgcError) and issubclass(ParameterError, AmmgcError)
    dataset = load_benchmark()  # the copy shipped in the package
    assert dataset.associations.shape == (106, 754)
    assert callable(cross_validate) and AMMGC.name == "ammgc" and StudySplit().n_folds == 5
    assert set(ammgc.__all__) >= {"AMMGC", "load_benchmark", "load_dataset", "cross_validate", "PairSplit",
                                  "StudySplit", "TimeSplit", "ColdStartSplit", "train", "predict"}
    with pytest.raises(AttributeError):
        ammgc.no_such_name  # noqa: B018


@pytest.mark.parametrize("name", methods.names())
def test_every_name_listed_anywhere_builds_a_method(name: str) -> None:
    """Registered methods and presets alike: ``get`` builds each as an object with the method contract."""
    method = methods.get(name)
    methods.check_method(method)
    method.check_params()
    assert methods.label(method) == name
    assert methods.label(methods.clone(method)) == name


def test_presets_are_objects_with_their_settings() -> None:
    paper = methods.get("ammgc-paper", epochs_gcn=3)
    assert paper.config.degree_prior == 0.0 and paper.config.epochs_gcn == 3 and paper.preset == "ammgc-paper"
    assert methods.get("popularity-studies").publications_use == "required"
    with pytest.raises(AmmgcError, match="unknown method 'nope'; choose one of ammgc, .*popularity-studies"):
        methods.get("nope")


def test_predict_scores_of_all_pairs_or_some(planted: Dataset) -> None:
    model = methods.get("popularity").fit(planted)
    matrix = model.predict_scores()
    np.testing.assert_array_equal(model.predict_scores(np.array([[0, 1], [2, 3]])), matrix[[0, 2], [1, 3]])
    with pytest.raises(AmmgcError, match="n x 2 array of integer"):
        model.predict_scores(np.array([0.5, 1.0]))
    with pytest.raises(AmmgcError, match="outside the"):
        model.predict_scores(np.array([[0, 10**6]]))


def test_fit_on_a_whole_dataset(planted: Dataset) -> None:
    whole = methods.get("popularity").fit(planted).predict_scores()
    again = methods.get("popularity").fit(planted, planted.associations).predict_scores()
    np.testing.assert_array_equal(whole, again)
    with pytest.raises(AmmgcError, match="must be an ammgc Dataset"):
        methods.get("popularity").fit(planted.associations)  # type: ignore[arg-type]
    with pytest.raises(AmmgcError, match="must be an ammgc Dataset"):
        methods.get("popularity").fit(planted.associations, planted)  # type: ignore[arg-type]
    with pytest.raises(AmmgcError, match="train must be a p x q 0/1 matrix"):
        methods.get("popularity").fit(planted, planted)  # type: ignore[arg-type]


def test_random_state_is_the_seed_of_fit_when_none_is_given(planted: Dataset) -> None:
    fast = {"epochs": 5}
    a = methods.get("gf", random_state=7, **fast)
    seeded = methods.get("gf", **fast).fit(planted, seed=7).predict_scores()
    np.testing.assert_array_equal(a.fit(planted).predict_scores(), seeded)
    assert clone(a).get_params()["random_state"] == 7 and "random_state=7" in repr(a)
    assert a.set_params(random_state=8).random_state == 8
    with pytest.raises(ParameterError, match="random_state=-1"):
        methods.get("gf", random_state=-1).fit(planted)
