"""Source attention: Luong dot / general / concat and Bahdanau additive scores."""

import keras
from keras import ops

from keras_s2s.choices import SCORES

# Added to the scores of padded source positions before the softmax. Large enough that
# exp() underflows to exactly 0 in float32, small enough to stay finite in float16.
_MASK_PENALTY = -1e4


@keras.saving.register_keras_serializable(package="keras_s2s")
class Attention(keras.layers.Layer):
    """Attention of one decoder query over the encoder states of a source.

    The layer scores every source position against the query, turns the scores into
    weights with a masked softmax (padded positions get exactly zero weight) and returns
    the weighted sum of the encoder states (the context vector) with the weights.

    Scores (`h_t` the query, `h_s` an encoder state):
    - `"dot"` (Luong): `h_t . h_s`; query and encoder states must have the same size.
    - `"general"` (Luong): `h_t . (W_a h_s)`.
    - `"concat"` (Luong): `v_a . tanh(W_a [h_t; h_s])`, one matrix over the concatenation.
    - `"bahdanau"` (additive): `v . tanh(W_1 h_s + W_2 h_t + b)`.

    Everything that depends only on the encoder states (`W_a h_s`, `W_1 h_s`, the source
    half of the concat matrix) is computed once per source by `project_keys()`; a decoder
    step then only projects its query. Pass the keys to `call()` to reuse them.

    Args:
        score: one of `"dot"`, `"general"`, `"concat"`, `"bahdanau"`.
        units: size of the hidden scoring layer for `"concat"` and `"bahdanau"`.
            Defaults to the query size.
        **kwargs: other `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch, query_dim)` decoder state, or `(batch, tgt_len, query_dim)`
            states of every target position at once (teacher forcing with the
            attention after the decoder RNN).
        values: `(batch, src_len, value_dim)` encoder states.
        keys: optional `(batch, src_len, key_dim)` result of `project_keys(values)`.
        mask: optional `(batch, src_len)` boolean or 0/1 mask, true on real tokens.

    Returns:
        `(context, weights)`: `(batch, value_dim)` and `(batch, src_len)`, with a
        `tgt_len` axis after `batch` for a `(batch, tgt_len, query_dim)` query.

    Example:
    >>> import numpy as np
    >>> attention = Attention("general")
    >>> context, weights = attention(np.ones((2, 8)), np.ones((2, 5, 16)))
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 16), (2, 5))
    """

    def __init__(self, score="dot", units=None, **kwargs):
        super().__init__(**kwargs)
        if score not in SCORES:
            raise ValueError(
                f"Unknown attention score {score!r}: use one of {', '.join(SCORES)}."
            )
        if units is not None and int(units) <= 0:
            raise ValueError(f"Attention units must be positive, got {units}.")
        self.score = score
        self.units = units
        # The encoder states usually carry the padding mask of the RNN that made them;
        # it is taken explicitly through `mask` and not propagated further.
        self.supports_masking = True

    def build(self, query_shape, values_shape, keys_shape=None):
        query_dim, value_dim = query_shape[-1], values_shape[-1]
        if self.score == "dot" and query_dim != value_dim:
            raise ValueError(
                f"Dot attention needs the query size ({query_dim}) to equal the encoder "
                f"state size ({value_dim}); use score='general', which learns a "
                "projection between them."
            )
        hidden = self.units or query_dim
        if self.score == "general":
            self.w_a = self.add_weight(
                name="w_a", shape=(value_dim, query_dim), initializer="glorot_uniform"
            )
        elif self.score == "concat":
            # One matrix over [h_t; h_s], stored whole; its two row blocks are used apart.
            self.w_a = self.add_weight(
                name="w_a",
                shape=(query_dim + value_dim, hidden),
                initializer="glorot_uniform",
            )
            self.v_a = self.add_weight(
                name="v_a", shape=(hidden,), initializer="glorot_uniform"
            )
        elif self.score == "bahdanau":
            self.w_1 = self.add_weight(
                name="w_1", shape=(value_dim, hidden), initializer="glorot_uniform"
            )
            self.w_2 = self.add_weight(
                name="w_2", shape=(query_dim, hidden), initializer="glorot_uniform"
            )
            self.bias = self.add_weight(name="bias", shape=(hidden,), initializer="zeros")
            self.v = self.add_weight(name="v", shape=(hidden,), initializer="glorot_uniform")
        self._query_dim = query_dim
        self.built = True

    def project_keys(self, values):
        """Returns the part of the score that depends only on the encoder states."""
        if self.score == "dot":
            return values
        if self.score == "general":
            return ops.matmul(values, self.w_a)
        if self.score == "concat":
            return ops.matmul(values, self.w_a[self._query_dim :])
        return ops.matmul(values, self.w_1)

    def call(self, query, values, keys=None, mask=None, training=None):
        if keys is None:
            keys = self.project_keys(values)
        # `t`: the target positions of a sequence of queries; absent for one step.
        t = "t" if len(query.shape) == 3 else ""
        # Inference writes one step's products as batched matmuls, which convert to one
        # op each (see the context below). Training, which differentiates through them,
        # keeps einsums: on TensorFlow 2.21 with oneDNN (its CPU default), the batched
        # matmuls of one step and their gradients, (batch, 1, src) x (batch, src, dim)
        # and the size-1 products they imply, corrupted the heap in about one training
        # run in ten (a core dump stopped in BatchMatMulMkl; tensorflow#117700 is that
        # kernel's known size-1-dimension bug); with einsums, none did.
        einsum = bool(training)
        if self.score in ("dot", "general"):
            if t or einsum:
                scores = ops.einsum(f"b{t}d,bsd->b{t}s", query, keys)
            else:
                # (batch, src, d) x (batch, d, 1): a batched product that converts to one
                # op without moving `keys` (see the context below).
                scores = ops.squeeze(ops.matmul(keys, ops.expand_dims(query, -1)), -1)
        else:
            if self.score == "concat":
                query_part = ops.matmul(query, self.w_a[: self._query_dim])
                v = self.v_a
            else:
                query_part = ops.matmul(query, self.w_2) + self.bias
                v = self.v
            if t:
                keys = ops.expand_dims(keys, 1)
            hidden = ops.tanh(keys + ops.expand_dims(query_part, -2))
            scores = ops.einsum(f"b{t}su,u->b{t}s", hidden, v)
        # The softmax runs in float32 whatever the compute dtype (mixed precision).
        scores = ops.cast(scores, "float32")
        if mask is not None:
            mask = ops.cast(mask, "float32")
            if t:
                mask = ops.expand_dims(mask, 1)
            scores = scores + (1.0 - mask) * _MASK_PENALTY
        # The softmax written out: Keras' ops.softmax warns on every one-token source.
        exp_scores = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))
        if mask is None:
            weights = exp_scores / ops.sum(exp_scores, axis=-1, keepdims=True)
        else:
            # exp(-1e4) is already 0 in float32; masking before the sum makes padding
            # weigh exactly 0 in any dtype and under quantization (where the penalty may
            # be clipped). A row without any source position gets all-zero weights (a
            # zero context): its denominator is 1 instead of 0.
            exp_scores = exp_scores * mask
            empty = 1.0 - ops.max(mask, axis=-1, keepdims=True)
            weights = exp_scores / (ops.sum(exp_scores, axis=-1, keepdims=True) + empty)
        weights = ops.cast(weights, values.dtype)
        if einsum:
            context = ops.einsum(f"b{t}s,bsd->b{t}d", weights, values)
        else:
            # A batched matrix product, (batch, [tgt_len | 1], src) x (batch, src, dim).
            # Written as an einsum, tf2onnx turns it into a transpose of `values` on every
            # decoder step (a fifth of the step's time at batch 64 on ONNX Runtime).
            context = ops.matmul(weights if t else ops.expand_dims(weights, 1), values)
            if not t:
                context = ops.squeeze(context, 1)
        return context, weights

    def compute_mask(self, query, values, keys=None, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "score": self.score, "units": self.units}
