"""Keras layers of keras_s2s: encoder, attention, bridge and decoder."""

from keras_s2s.layers.attention import Attention
from keras_s2s.layers.bridge import Bridge
from keras_s2s.layers.decoder import Decoder
from keras_s2s.layers.encoder import Encoder

__all__ = ["Attention", "Bridge", "Decoder", "Encoder"]
