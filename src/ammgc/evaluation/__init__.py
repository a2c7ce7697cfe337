"""Evaluation protocol of the paper: splits, metrics, the cross-validation runner and its result store."""
