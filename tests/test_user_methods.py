"""The user-method boundary: a class of the user's (``module:Class`` on the command line, an object from Python)
that fails to import, breaks the method contract or misbehaves in a fold is one clear error naming the class (and
the fold), exit code 2 with no traceback, and the folds other methods finished stay on disk."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_PAIRS, run_cli, write_tiny_own_dataset

from ammgc.errors import MethodError
from ammgc.evaluation.runner import cross_validate
from ammgc.evaluation.splits import StudySplit

# A method in the user's module, with ``{fit}`` and ``{predict}`` filled in per case.
TEMPLATE = """
import numpy as np


class Method:
    def fit(self, dataset, train=None, *, seed=None):
        a = dataset.associations if train is None else train
        self.p, self.q = a.shape
        self.scores = np.outer(a.sum(axis=1), a.sum(axis=0)).astype(float)
        {fit}

    def predict_scores(self):
        {predict}
"""
GOOD_FIT, GOOD_PREDICT = "return self", "return self.scores"


def module(fit: str = GOOD_FIT, predict: str = GOOD_PREDICT, *, head: str = "") -> str:
    return head + TEMPLATE.format(fit=fit, predict=predict)


IN_FOLD = "(repeat 0, fold "
#: case -> (the module's source or None for no module, the class, what the error says, whether it is in a fold)
CASES: dict[str, tuple[str | None, str, str, bool]] = {
    "syntax error": ("def fit(:\n", "Method", "cannot import module '{mod}' (SyntaxError: ", False),
    "import error inside": (module(head="import not_a_package_of_anyone\n"), "Method",
                            "cannot import module '{mod}' (ModuleNotFoundError: No module named "
                            "'not_a_package_of_anyone')", False),
    "missing module": (None, "Method", "cannot import module '{mod}' (ModuleNotFoundError: No module named "
                       "'{mod}')", False),
    "missing class": (module(), "Absent", "module '{mod}' has no 'Absent'", False),
    "not a class": ("Method = 42\n", "Method", "'Method' is not a class (it is of type int)", False),
    "no fit": ("class Method:\n    def predict_scores(self):\n        return None\n", "Method",
               "a method needs fit (the contract", False),
    "no predict_scores": ("class Method:\n    def fit(self, dataset, train=None, *, seed=None):\n"
                          "        return self\n", "Method", "a method needs predict_scores (the contract", False),
    "constructor fails": ("class Method:\n    def __init__(self):\n        raise ValueError('no licence')\n",
                          "Method", "cannot be built with no arguments (ValueError: no licence)", False),
    "exception in fit": (module(fit="raise RuntimeError('out of coffee')"), "Method",
                         "fit failed (RuntimeError: out of coffee)", True),
    "exception in predict_scores": (module(predict="return self.scores[99]"), "Method",
                                    "predict_scores() failed (IndexError: ", True),
    "wrong shape": (module(predict="return self.scores.T"), "Method",
                    "predict_scores() returned shape (6, 7); expected (7, 6) (drugs x miRNAs)", True),
    "a row missing": (module(predict="return self.scores[:-1]"), "Method",
                      "predict_scores() returned shape (6, 6); expected (7, 6)", True),
    "NaN scores": (module(predict="return self.scores * np.nan"), "Method",
                   "predict_scores() returned 42 NaN or infinite score(s), the first at drug 'cisplatin' x miRNA "
                   "'hsa-mir-21'", True),
    "infinite scores": (module(predict="s = self.scores.copy(); s[2, 3] = np.inf; return s"), "Method",
                        "predict_scores() returned 1 NaN or infinite score(s), the first at drug 'fluorouracil' x "
                        "miRNA 'hsa-mir-200c'", True),
    "strings": (module(predict="return self.scores.astype(str).astype(object) + 'x'"), "Method",
                "predict_scores() must return numbers, not ndarray of object", True),
    "numbers as text": (module(predict="return self.scores.astype(str)"), "Method",
                        "predict_scores() must return numbers, not ndarray of <U32", True),
    "ragged lists": (module(predict="return [[1.0], [1.0, 2.0]]"), "Method",
                     "predict_scores() must return a p x q array of numbers (", True),
    "None": (module(predict="return None"), "Method",
             "predict_scores() returned None; it must return the 7 x 6 scores (drugs x miRNAs)", True),
}

# 7 drugs x 6 miRNAs, 15 pairs from 6 studies: enough for 3 study folds
PMIDS = [1001, 1001, 1002, 1003, 1003, 1004, 1004, 1005, 1005, 1006, 1002, 1006, 1003, 1004, 1005]


@pytest.fixture(scope="module")
def own_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tiny_own_dataset(tmp_path_factory.mktemp("own") / "data")
    (root / "associations.csv").write_text("drug,mirna,pmid\n" + "".join(
        f"{d},{m},{pmid}\n" for (d, m), pmid in zip(TINY_PAIRS, PMIDS, strict=True)))
    return root


_names = (f"user_method_{k}" for k in itertools.count())


@pytest.mark.parametrize("case", list(CASES))
def test_a_misbehaving_user_method_is_one_line_naming_it(case: str, own_data: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    source, cls, message, in_fold = CASES[case]
    mod = next(_names)  # a module name of its own: Python caches imported modules
    if source is not None:
        (tmp_path / f"{mod}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    code, err = run_cli(monkeypatch, capsys, "compare", "--data", str(own_data), "--split", "study", "--folds", "3",
                        "--repeats", "1", "--jobs", "1", "--methods", f"popularity,{mod}:{cls}", "--out", str(out))
    sys.modules.pop(mod, None)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2, err
    assert "Traceback" not in err and len(errors) == 1, err
    assert f"{mod}:{cls}" in errors[0] and message.format(mod=mod) in errors[0], errors[0]
    if in_fold:
        assert IN_FOLD in errors[0], errors[0]
        # the method before it finished its folds, and they stay for a rerun
        assert len(list((out / "popularity" / "folds").glob("r00_f0*.json"))) == 3
        assert (out / "popularity" / "metrics.json").is_file()


@pytest.fixture(scope="module")
def own_dataset(own_data: Path) -> object:
    from ammgc.data import load_dataset

    return load_dataset(own_data)


@pytest.mark.parametrize("case", list(CASES))
def test_from_python_a_misbehaving_method_is_a_method_error(case: str, own_dataset: object, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The same cases through ``cross_validate``: an object of the class where it can be built, else its name."""
    import importlib

    source, cls, message, in_fold = CASES[case]
    mod = next(_names)
    if source is not None:
        (tmp_path / f"{mod}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        method = getattr(importlib.import_module(mod), cls)() if in_fold else f"{mod}:{cls}"
        with pytest.raises(MethodError) as caught:
            cross_validate(method, own_dataset, StudySplit(3, 1))
    finally:
        sys.modules.pop(mod, None)
    assert str(caught.value).startswith(f"{mod}:{cls}") and message.format(mod=mod) in str(caught.value)
    assert (IN_FOLD in str(caught.value)) == in_fold


@pytest.mark.parametrize("fit", ["return None", "return 42"])
def test_what_fit_returns_is_not_used(fit: str, own_dataset: object, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner scores the object it called fit on: a fit that returns nothing sensible runs (as popularity)."""
    import importlib

    mod = next(_names)
    (tmp_path / f"{mod}.py").write_text(module(fit=fit))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        result = cross_validate(importlib.import_module(mod).Method(), own_dataset, StudySplit(3, 1))
    finally:
        sys.modules.pop(mod, None)
    assert result.mean["auc"] == pytest.approx(cross_validate("popularity", own_dataset, StudySplit(3, 1)).mean["auc"])


# --- fold processes: what cannot be sent to them is refused before any starts -------------------------------

class Degree:
    """A well-behaved method (as tests/test_compare.py's), to be made unsendable in the ways below."""

    def fit(self, dataset: object, train: np.ndarray | None = None, *, seed: int | None = None) -> Degree:
        a = dataset.associations if train is None else train  # type: ignore[attr-defined]
        self.scores = np.outer(a.sum(axis=1), a.sum(axis=0)).astype(float)
        return self

    def predict_scores(self) -> np.ndarray:
        return self.scores


def _no_pool(*args: object, **kwargs: object) -> None:
    raise AssertionError("a fold process was started")


def test_a_class_of_an_interactive_session_is_refused_before_fold_processes_start(
        planted_with_publications: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from ammgc.evaluation import runner

    monkeypatch.setattr(runner, "ProcessPoolExecutor", _no_pool)
    session = types.ModuleType("__main__")  # python -c, a notebook: no file a spawned process could import
    cls = type("Notebook", (Degree,), {"__module__": "__main__"})
    session.Notebook = cls
    monkeypatch.setitem(sys.modules, "__main__", session)
    with pytest.raises(MethodError, match=r"^__main__:Notebook: cannot run in a fold process \(class Notebook is "
                                          r"defined in an interactive session, which a fold process cannot import\); "
                                          r"define the class in a module importable from the Python path, or use "
                                          r"jobs=1$"):
        cross_validate(cls(), planted_with_publications, StudySplit(3, 1), jobs=2)
    # with one process it runs
    assert cross_validate(cls(), planted_with_publications, StudySplit(3, 1), jobs=1).folds


def test_an_object_pickle_refuses_is_refused_before_fold_processes_start(
        planted_with_publications: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from ammgc.evaluation import runner

    monkeypatch.setattr(runner, "ProcessPoolExecutor", _no_pool)
    locked = Degree()
    locked.lock = threading.Lock()  # type: ignore[attr-defined]
    with pytest.raises(MethodError, match=r"^test_user_methods:Degree: cannot run in a fold process \(TypeError: "
                                          r"cannot pickle '_thread.lock' object\)"):
        cross_validate(locked, planted_with_publications, StudySplit(3, 1), jobs=2)
    missing = type("Gone", (Degree,), {"__module__": __name__})  # not findable where pickle looks
    with pytest.raises(MethodError, match=rf"^{__name__}:Gone: cannot run in a fold process \(PicklingError: Can't "
                                          rf"pickle <class '{__name__}.Gone'>: attribute lookup Gone on {__name__} "
                                          r"failed"):
        cross_validate(missing(), planted_with_publications, StudySplit(3, 1), jobs=2)


def test_a_class_a_fold_process_cannot_import_is_a_method_error_there(planted_with_publications: object,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A class pickled here but not importable in the fold process (a script's class under ``if __name__ ==
    "__main__":``): the fold process answers with a MethodError, not a traceback of a dying worker."""
    import pickle

    from ammgc.evaluation import runner

    cls = type("Guarded", (Degree,), {"__module__": __name__})
    monkeypatch.setitem(globals(), "Guarded", cls)
    sent = pickle.dumps(cls())
    monkeypatch.delitem(globals(), "Guarded")  # as the fold process, which never ran the guarded block, sees it
    fold = next(iter(StudySplit(3, 1).split(planted_with_publications)))
    with pytest.raises(MethodError, match=r"^test_user_methods:Guarded: cannot run in a fold process "
                                          r"\(AttributeError: Can't get attribute 'Guarded' on <module "
                                          r"'test_user_methods'"):
        runner._worker(("test_user_methods:Guarded", sent, planted_with_publications, fold, 0))


def test_a_fold_process_the_users_code_ends_is_a_method_error(planted_with_publications: object,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from ammgc.evaluation import runner

    class ThreadPool(ThreadPoolExecutor):  # the runner's control flow without spawning interpreters
        def __init__(self, max_workers: int, **_: object) -> None:
            super().__init__(max_workers=max_workers)

    def ended(*args: object) -> dict:
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(runner, "ProcessPoolExecutor", ThreadPool)
    monkeypatch.setattr(runner, "run_fold", ended)
    with pytest.raises(MethodError, match=r"^test_user_methods:Degree: a fold process running it ended abruptly "
                                          r"\(A process in the process pool was terminated abruptly\); the folds "
                                          r"stored before are kept$"):
        cross_validate(Degree(), planted_with_publications, StudySplit(3, 1), jobs=2)


def test_on_the_command_line_an_unsendable_method_with_jobs_is_one_line(own_data: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from ammgc.evaluation import runner

    mod = next(_names)
    (tmp_path / f"{mod}.py").write_text(module(head="import threading\n").replace(
        "class Method:\n", "class Method:\n    def __init__(self):\n        self.lock = threading.Lock()\n\n"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "ProcessPoolExecutor", _no_pool)
    code, err = run_cli(monkeypatch, capsys, "compare", "--data", str(own_data), "--split", "study", "--folds", "3",
                        "--repeats", "1", "--jobs", "2", "--methods", f"{mod}:Method", "--out", str(tmp_path / "o"))
    sys.modules.pop(mod, None)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and "Traceback" not in err and len(errors) == 1, err
    assert errors[0] == (f"error: {mod}:Method: cannot run in a fold process (TypeError: cannot pickle "
                         f"'_thread.lock' object); define the class in a module importable from the Python path, "
                         f"or use jobs=1")
