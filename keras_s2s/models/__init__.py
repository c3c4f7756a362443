"""Models of keras_s2s: the training model and the stepwise inference model."""

from keras_s2s.models.inference import Seq2SeqInference
from keras_s2s.models.losses import MaskedAccuracy, MaskedSparseCrossentropy
from keras_s2s.models.optimizers import Adam
from keras_s2s.models.seq2seq import Seq2Seq

__all__ = ["Adam", "MaskedAccuracy", "MaskedSparseCrossentropy", "Seq2Seq", "Seq2SeqInference"]
