"""ammgc: attentive multimodal graph convolution for miRNA-drug resistance association prediction.

Implements Niu et al. 2022 (Front. Pharmacol. 12:799108, doi 10.3389/fphar.2021.799108),
its evaluation protocol and comparison methods. What a notebook needs is here::

    from ammgc import AMMGC, load_benchmark, cross_validate
    dataset = load_benchmark()                       # shipped in the package
    result = cross_validate(dataset, "ammgc", repeats=1)
    model = AMMGC(epochs_gcn=50).fit(dataset, seed=0)

The heavy modules (torch) load on first use of a name, so ``import ammgc`` stays fast.
"""

from importlib import import_module
from typing import Any

from ammgc.errors import AmmgcError, DataError, DownloadError, ModelFileError, TrainingError

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first use)
_LAZY = {
    "AMMGC": "ammgc.models.ammgc",
    "load_benchmark": "ammgc.data.benchmark",
    "load_dataset": "ammgc.data",
    "cross_validate": "ammgc.evaluation.runner",
    "make_method": "ammgc.methods",
    "NotFittedError": "ammgc.methods",
    "ParameterError": "ammgc.params",
    "train_model": "ammgc.prediction.training",
    "load_model": "ammgc.models.modelfile",
    "save_model": "ammgc.models.modelfile",
}

__all__ = ["AmmgcError", "DataError", "DownloadError", "ModelFileError", "TrainingError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ammgc' has no attribute {name!r}")
