"""Prediction: a model trained on every known association, new drugs and miRNAs, explanations and rankings."""
