"""Comparison methods of the paper's Table 1 (and popularity), one module each, same interface."""
