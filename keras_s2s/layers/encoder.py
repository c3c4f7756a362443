"""The RNN encoder: embedding, (bidirectional) GRU or LSTM layers, stacked."""

import keras
from keras import ops

from keras_s2s.choices import CELLS


def check_rnn_arguments(cell, num_layers, dropout):
    """The argument checks the encoder and the decoder share."""
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}: use 'gru' or 'lstm'.")
    if int(num_layers) < 1:
        raise ValueError(f"At least one RNN layer is needed, got num_layers={num_layers}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")


def reverse_padded(ids, mask):
    """Reverses each row of `ids` within its real (masked-in) prefix; padding stays put.

    `[[a, b, c, 0]] -> [[c, b, a, 0]]`. The permutation is its own inverse, so the same
    call maps reversed encoder states back to source order.
    """
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)
    positions = ops.expand_dims(ops.arange(ops.shape(ids)[1], dtype="int32"), 0)
    index = ops.where(positions < lengths, lengths - 1 - positions, positions)
    if len(ids.shape) == 3:
        index = ops.expand_dims(index, -1)
    return ops.take_along_axis(ids, index, axis=1)


@keras.saving.register_keras_serializable(package="keras_s2s")
class Encoder(keras.layers.Layer):
    """Reads a padded batch of source token ids into encoder states.

    Token id 0 is padding: it is masked in the RNNs, so padding never changes the states
    of real positions nor the final states.

    Args:
        vocab_size: size of the source vocabulary.
        embedding_dim: size of the token embeddings.
        units: RNN units per direction.
        cell: `"gru"` or `"lstm"`.
        bidirectional: run each layer forwards and backwards; outputs and final states
            of the two directions are concatenated (size `2 * units`).
        num_layers: number of stacked RNN layers.
        dropout: dropout rate on the embeddings and between layers (training only).
        reverse_source: read each source backwards (Sutskever et al.'s trick for plain
            seq2seq). Encoder outputs are returned in source order all the same, so
            attention weights still line up with the source tokens.
        **kwargs: other `keras.layers.Layer` arguments.

    Call arguments:
        source_ids: `(batch, src_len)` int token ids, 0-padded at the end.

    Returns:
        `(outputs, states)`: `outputs` is `(batch, src_len, output_dim)`, with
        `output_dim = units * (2 if bidirectional else 1)`; `states` is the flat list of
        the final states, layer by layer: `[h_0, h_1, ...]` for GRUs,
        `[h_0, c_0, h_1, c_1, ...]` for LSTMs, each `(batch, output_dim)` (forward and
        backward concatenated when bidirectional).

    Example:
    >>> import numpy as np
    >>> encoder = Encoder(vocab_size=20, embedding_dim=8, units=8, bidirectional=True)
    >>> outputs, states = encoder(np.array([[4, 5, 6, 0]]))
    >>> tuple(outputs.shape), [tuple(state.shape) for state in states]  # directions concatenated
    ((1, 4, 16), [(1, 16)])
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        cell="gru",
        bidirectional=False,
        num_layers=1,
        dropout=0.0,
        reverse_source=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_rnn_arguments(cell, num_layers, dropout)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.dropout = dropout
        self.reverse_source = reverse_source

        # === Layers ===
        # Sub-layers compute in this layer's dtype policy (mixed precision included).
        dtype = self.dtype_policy
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, name="embedding", dtype=dtype
        )
        self.rnns = []
        rnn_class = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
        for i in range(num_layers):
            rnn = rnn_class(
                units, return_sequences=True, return_state=True, name=f"{cell}_{i}",
                dtype=dtype,
            )
            if bidirectional:
                rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{i}", dtype=dtype)
            self.rnns.append(rnn)
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout", dtype=dtype)

    @property
    def output_dim(self):
        return self.units * (2 if self.bidirectional else 1)

    @property
    def states_per_layer(self):
        return 2 if self.cell == "lstm" else 1

    def build(self, source_ids_shape):
        self.embedding.build(source_ids_shape)
        input_dim = self.embedding_dim
        for rnn in self.rnns:
            rnn.build((None, None, input_dim))
            input_dim = self.output_dim
        self.built = True

    def call(self, source_ids, training=None):
        mask = ops.not_equal(source_ids, 0)
        if self.reverse_source:
            source_ids = reverse_padded(source_ids, mask)
        x = self.dropout_layer(self.embedding(source_ids), training=training)
        states = []
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.dropout_layer(x, training=training)
            x, *layer_states = rnn(x, mask=mask, training=training)
            if self.bidirectional:
                # Bidirectional returns forward states then backward states.
                n = self.states_per_layer
                layer_states = [
                    ops.concatenate([fw, bw], axis=-1)
                    for fw, bw in zip(layer_states[:n], layer_states[n:])
                ]
            states.extend(layer_states)
        if self.reverse_source:
            x = reverse_padded(x, mask)
        return x, states

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "bidirectional": self.bidirectional,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "reverse_source": self.reverse_source,
        }
