"""ammgc: attentive multimodal graph convolution for miRNA-drug resistance association prediction.

Implements Niu et al. 2022 (Front. Pharmacol. 12:799108, doi 10.3389/fphar.2021.799108),
its evaluation protocol and comparison methods. What a notebook needs is here::

    from ammgc import AMMGC, StudySplit, cross_validate, load_benchmark
    dataset = load_benchmark()                              # shipped in the package
    model = AMMGC(epochs_gcn=50).fit(dataset, seed=0)       # computes the views it reads
    model.save("benchmark.ammgc"); model = AMMGC.load("benchmark.ammgc")
    result = cross_validate(AMMGC(), dataset, cv=StudySplit(repeats=1))
    result.mean["ap"], result.sem["ap"]

The heavy modules (torch) load on first use of a name, so ``import ammgc`` stays fast.
"""

from importlib import import_module
from typing import Any

from ammgc.errors import AmmgcError, DataError, DownloadError, MethodError, ModelFileError, TrainingError

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first use)
_LAZY = {
    "AMMGC": "ammgc.models.ammgc",
    "load_benchmark": "ammgc.data.benchmark",
    "load_dataset": "ammgc.data",
    "cross_validate": "ammgc.evaluation.runner",
    "PairSplit": "ammgc.evaluation.splits",
    "StudySplit": "ammgc.evaluation.splits",
    "TimeSplit": "ammgc.evaluation.splits",
    "ColdStartSplit": "ammgc.evaluation.splits",
    "NotFittedError": "ammgc.methods",
    "ParameterError": "ammgc.params",
    "train": "ammgc.prediction.training",
    "predict": "ammgc.prediction.predict",
}

__all__ = ["AmmgcError", "DataError", "DownloadError", "MethodError", "ModelFileError", "TrainingError",
           "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ammgc' has no attribute {name!r}")
