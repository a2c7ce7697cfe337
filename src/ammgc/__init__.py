"""ammgc: attentive multimodal graph convolution for miRNA-drug resistance association prediction.

Implements Niu et al. 2022 (Front. Pharmacol. 12:799108, doi 10.3389/fphar.2021.799108),
its evaluation protocol and comparison methods.
"""

from ammgc.errors import AmmgcError, DataError

__version__ = "0.1.0"

__all__ = ["AmmgcError", "DataError", "__version__"]
