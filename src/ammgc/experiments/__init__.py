"""The paper's experiments as thin compositions of data, methods and evaluation."""
