"""Bridges: how the encoder's final states become the decoder's initial states."""

import keras
from keras import ops

from keras_s2s.choices import BRIDGES


def decoder_state_names(cell, num_layers):
    """Names of the recurrent decoder states: `h0` (`c0`), `h1` (`c1`), ..."""
    kinds = ("h", "c") if cell == "lstm" else ("h",)
    return [f"{kind}{i}" for i in range(num_layers) for kind in kinds]


@keras.saving.register_keras_serializable(package="keras_s2s")
class Bridge(keras.layers.Layer):
    """Maps the encoder's final states to the decoder's initial RNN states.

    Args:
        mode: `"zero"` (the decoder starts from zeros; with no attention the decoder
            then knows nothing of the source), `"copy"` (encoder layer i's final states
            start decoder layer i; needs as many layers, the same cell and
            `decoder units == encoder output size`) or `"dense"` (one learned linear map
            from all encoder final states to all decoder states; works for any sizes).
        cell: the decoder cell, `"gru"` or `"lstm"`.
        units: decoder units.
        num_layers: decoder layers.
        **kwargs: other `keras.layers.Layer` arguments.

    Call arguments:
        encoder_states: the flat list of final states returned by `Encoder`.

    Returns:
        A dict of `(batch, units)` tensors named by `decoder_state_names()`.

    Example:
    >>> import numpy as np
    >>> bridge = Bridge("dense", cell="lstm", units=16, num_layers=2)
    >>> state = bridge([np.ones((3, 8)), np.ones((3, 8))])  # from a 1-layer LSTM encoder
    >>> {name: tuple(value.shape) for name, value in state.items()}
    {'h0': (3, 16), 'c0': (3, 16), 'h1': (3, 16), 'c1': (3, 16)}
    """

    def __init__(self, mode="dense", cell="gru", units=None, num_layers=1, **kwargs):
        super().__init__(**kwargs)
        if mode not in BRIDGES:
            raise ValueError(f"Unknown bridge {mode!r}: use one of {', '.join(BRIDGES)}.")
        self.mode = mode
        self.cell = cell
        self.units = units
        self.num_layers = num_layers
        self.state_names = decoder_state_names(cell, num_layers)

        # === Layers ===
        self.dense = None
        if mode == "dense":
            self.dense = keras.layers.Dense(
                units * len(self.state_names), use_bias=True, name="dense",
                dtype=self.dtype_policy,
            )

    def build(self, encoder_states_shape):
        shapes = list(encoder_states_shape)
        if self.mode == "copy":
            sizes = [shape[-1] for shape in shapes]
            if len(shapes) != len(self.state_names) or any(s != self.units for s in sizes):
                raise ValueError(
                    "bridge='copy' passes each encoder state to the decoder unchanged, so "
                    f"it needs {len(self.state_names)} encoder states of size {self.units} "
                    f"(decoder: {self.num_layers} {self.cell} layer(s) of {self.units} "
                    f"units) but the encoder gives {len(shapes)} of sizes {sizes}. Use "
                    "the same cell and number of layers, decoder units equal to the "
                    "encoder output size (2 x units if bidirectional), or bridge='dense'."
                )
        if self.dense is not None:
            self.dense.build((None, sum(shape[-1] for shape in shapes)))
        self.built = True

    def call(self, encoder_states):
        encoder_states = list(encoder_states)
        if self.mode == "copy":
            return dict(zip(self.state_names, encoder_states))
        if self.mode == "zero":
            first = encoder_states[0]
            zeros = ops.zeros_like(first[:, :1]) * ops.zeros((1, self.units), first.dtype)
            return {name: zeros for name in self.state_names}
        flat = ops.concatenate(encoder_states, axis=-1)
        mapped = self.dense(flat)
        parts = ops.split(mapped, len(self.state_names), axis=-1)
        return dict(zip(self.state_names, parts))

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "cell": self.cell,
            "units": self.units,
            "num_layers": self.num_layers,
        }
