"""Errors keras_s2s raises on purpose (importable without TensorFlow)."""


class TrainingError(RuntimeError):
    """Training stopped on a condition the user must act on (e.g. a NaN loss)."""
