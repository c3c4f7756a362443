"""keras_s2s: sequence-to-sequence RNN models with attention for Keras 3."""

__version__ = "0.1.0"
