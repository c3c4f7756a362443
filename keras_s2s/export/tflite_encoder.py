"""The encoder's RNNs as a TFLite-friendly loop that takes a whole batch.

Keras converts its GRU / LSTM layers into a `WHILE` op that collects each step's output
in a TensorList. TFLite needs that list's element shape to be static, so the traced
encoder can only be converted for batch 1, and LiteRT encoded a batch one row at a
time. This module computes what `Encoder.call` returns (the outputs and the flat list
of final states) with plain tensor ops instead:

- the embedding lookup and, for each layer, **the input projections of every time step
  in one matrix product** (only the recurrent product stays in the loop);
- **one loop per layer for both directions**: the backward direction reads each row's
  real tokens reversed (`tf.reverse_sequence`), so at step `t` both directions see a
  real token exactly when `t < length`, and a padded step keeps the state;
- each step's output written into a preallocated `(time, batch, units)` buffer with
  `DYNAMIC_UPDATE_SLICE`, so every loop variable keeps its shape and the batch and the
  source length stay dynamic.

Padded positions match Keras: a bidirectional layer's outputs are zero there; a
forward-only layer repeats its last real output. `reverse_source` reverses each row's
real tokens before the embedding and the outputs after the last layer, as
`Encoder.call` does. The gates follow Keras 3's defaults (GRU with `reset_after=True`:
`z, r, h` blocks and separate input and recurrent biases; LSTM: `i, f, c, o`).
"""

import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

from keras_s2s.export.rnn_cells import check_default_cells


class _Direction:
    """One direction of one layer: its weights, split into the part
    applied to the inputs (outside the loop) and the recurrent part (inside)."""

    def __init__(self, cell, kind, units):
        # The variables themselves: the TFLite conversion freezes them into constants.
        kernel, recurrent, bias = (tf.convert_to_tensor(w.value)
                                   for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
        if kind == "gru":
            if len(bias.shape) != 2:
                raise ValueError("The batched TFLite encoder needs GRUs with reset_after=True "
                                 "(Keras's default), whose bias holds the input and the "
                                 "recurrent part.")
            input_bias, recurrent_bias = bias[0], bias[1]
        else:
            input_bias, recurrent_bias = bias, None
        self.kind, self.units = kind, units
        self.kernel, self.input_bias = kernel, input_bias
        self.recurrent, self.recurrent_bias = recurrent, recurrent_bias

    def project(self, x):
        """`(batch, time, features)` -> `(time, batch, gates * units)`: every step's input
        part of the gates in one product, time-major for the loop."""
        batch, time = tf.shape(x)[0], tf.shape(x)[1]
        flat = tf.reshape(x, [-1, x.shape[-1]])
        projected = tf.matmul(flat, self.kernel) + self.input_bias
        gates = self.kernel.shape[-1]
        return tf.transpose(tf.reshape(projected, tf.stack([batch, time, gates])), [1, 0, 2])

    def step(self, projected, h, c):
        """One step from this step's input projection: the new `(h, c)` (`c` is None for
        a GRU)."""
        inner = tf.matmul(h, self.recurrent)
        if self.kind == "gru":
            inner = inner + self.recurrent_bias
            x_z, x_r, x_h = tf.split(projected, 3, axis=-1)
            h_z, h_r, h_h = tf.split(inner, 3, axis=-1)
            z = tf.sigmoid(x_z + h_z)
            r = tf.sigmoid(x_r + h_r)
            candidate = tf.tanh(x_h + r * h_h)
            return z * h + (1.0 - z) * candidate, None
        i, f, g, o = tf.split(projected + inner, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c


def _run_layer(directions, inputs, lengths):
    """Runs one layer's directions (each `(direction, its time-major projections)`) over
    time together. Returns per direction `(outputs (time, batch, units), h, c)`."""
    time = tf.shape(inputs[0])[0]
    batch = tf.shape(inputs[0])[1]
    units = directions[0].units
    lstm = directions[0].kind == "lstm"
    zeros = tf.zeros(tf.stack([batch, units]), tf.float32)
    buffers = [tf.zeros(tf.stack([time, batch, units]), tf.float32) for _ in directions]
    states = [zeros for _ in directions]
    cells = [zeros for _ in directions] if lstm else []

    def body(t, buffers, states, cells):
        real = tf.expand_dims(t < lengths, -1)  # (batch, 1): this step reads a token
        new_buffers, new_states, new_cells = [], [], []
        for k, (direction, projected) in enumerate(zip(directions, inputs)):
            h, c = states[k], cells[k] if lstm else None
            new_h, new_c = direction.step(projected[t], h, c)
            new_h = tf.where(real, new_h, h)
            new_states.append(new_h)
            if lstm:
                new_cells.append(tf.where(real, new_c, c))
            new_buffers.append(xla.dynamic_update_slice(
                buffers[k], tf.expand_dims(new_h, 0), tf.stack([t, 0, 0])))
        return t + 1, new_buffers, new_states, new_cells

    _, buffers, states, cells = tf.while_loop(
        lambda t, *_: t < time, body, (tf.constant(0), buffers, states, cells))
    return [(buffers[k], states[k], cells[k] if lstm else None) for k in range(len(directions))]


def encoder_rnn(encoder, source_ids):
    """`Encoder.call(source_ids)` (inference) in batch-friendly TFLite ops:
    `(outputs (batch, src_len, dim), [final states (batch, dim)])`."""
    check_default_cells(encoder, "The batched TFLite encoder")
    mask = tf.not_equal(source_ids, 0)
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    ids = source_ids
    if encoder.reverse_source:
        ids = tf.reverse_sequence(ids, lengths, seq_axis=1, batch_axis=0)
    embeddings = tf.convert_to_tensor(encoder.embedding.embeddings.value)
    x = tf.gather(embeddings, ids)
    kind = encoder.cell
    states = []
    for rnn in encoder.rnns:
        if encoder.bidirectional:
            forward = _Direction(rnn.forward_layer.cell, kind, encoder.units)
            backward = _Direction(rnn.backward_layer.cell, kind, encoder.units)
            reversed_x = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
            (fw, fw_h, fw_c), (bw, bw_h, bw_c) = _run_layer(
                [forward, backward], [forward.project(x), backward.project(reversed_x)],
                lengths)
            bw = tf.reverse_sequence(bw, lengths, seq_axis=0, batch_axis=1)
            # Keras's Bidirectional zeroes both directions' outputs over the padding.
            real = tf.expand_dims(tf.transpose(mask), -1)
            x = tf.transpose(tf.where(real, tf.concat([fw, bw], -1), 0.0), [1, 0, 2])
            states.append(tf.concat([fw_h, bw_h], -1))
            if kind == "lstm":
                states.append(tf.concat([fw_c, bw_c], -1))
        else:
            forward = _Direction(rnn.cell, kind, encoder.units)
            [(outputs, h, c)] = _run_layer([forward], [forward.project(x)], lengths)
            # Keras's masked forward RNN repeats its last real output over the padding.
            real = tf.expand_dims(tf.transpose(mask), -1)
            x = tf.transpose(tf.where(real, outputs, tf.expand_dims(h, 0)), [1, 0, 2])
            states.append(h)
            if kind == "lstm":
                states.append(c)
    if encoder.reverse_source:
        x = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
    return x, states
