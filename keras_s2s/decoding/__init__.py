"""Decoding strategies over a numpy step function; imports neither TensorFlow nor Keras."""

from keras_s2s.decoding.beam import beam_search, length_penalty_factor
from keras_s2s.decoding.common import (
    Hypothesis,
    StepFunction,
    check_sampling,
    log_normalizer,
    log_softmax,
)
from keras_s2s.decoding.greedy import greedy_search, sample

__all__ = [
    "Hypothesis",
    "StepFunction",
    "beam_search",
    "check_sampling",
    "greedy_search",
    "length_penalty_factor",
    "log_normalizer",
    "log_softmax",
    "sample",
]
