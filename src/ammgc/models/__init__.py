"""The AMMGC model (paper section 3): GCN sub-networks per modal, attention fusion, inner-product decoder."""

from ammgc.models.ammgc import AMMGC

__all__ = ["AMMGC"]
