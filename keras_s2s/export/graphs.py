"""The graphs every export format is made of, traced from a trained `Seq2Seq`.

Three functions, each a `tf.function` with named inputs and a dict of named outputs
(the *step contract*, documented in `export/README.md`):

- `encode`: `source_ids (batch, src_len) int32` -> the initial decoder state (`h0`,
  `c0`, ..., `attentional`) and the memory (`encoder_outputs`, `attention_keys`,
  `source_mask`);
- `decode_step`: `token_ids (batch,) int32` plus the state and the memory ->
  `logits (batch, vocab)`, `next_<state name>` and `attention (batch, src_len)`;
- `greedy`: `source_ids` -> `tokens (batch, max_decode_length) int32` and
  `lengths (batch,) int32`: the whole greedy loop in one graph (`tf.while_loop`), so a
  device calls it once. Row `i` holds `lengths[i]` generated tokens, then the end token
  (when it was generated), then padding.

All three call the model's own layers (`Decoder.step` is the one decoder step), so the
exports compute what Keras computes.
"""

import tensorflow as tf

from keras_s2s.models.inference import encode_source, named_step
from keras_s2s.text.vocabulary import END_ID, PAD_ID, START_ID


class ExportGraphs(tf.Module):
    """The export functions of a `Seq2Seq`.

    Args:
        model: a built `Seq2Seq`.
        max_decode_length: the most tokens `greedy` generates per source (the end
            token included), as `keras_s2s.decoding.greedy_search`'s `max_length`.

    Example:
    >>> graphs = ExportGraphs(model, max_decode_length=20)
    >>> graphs.encode_function(batch_size=None)          # a ConcreteFunction
    >>> graphs.greedy(tf.constant([[5, 6, 7]]))["tokens"]
    """

    @property
    def model(self):
        """The `Seq2Seq` the graphs were traced from."""
        return self._model()

    def __init__(self, model, max_decode_length):
        super().__init__(name="seq2seq_export")
        if int(max_decode_length) < 1:
            raise ValueError(f"max_decode_length must be at least 1, got {max_decode_length}.")
        # Track the three layers (their weights go into a SavedModel), not the model,
        # whose optimizer state has no place in an inference export.
        self.encoder, self.bridge, self.decoder = model.encoder, model.bridge, model.decoder
        self._model = lambda: model
        self.max_decode_length = int(max_decode_length)
        self.state_names = list(self.decoder.state_names)
        self.memory_names = self.decoder.memory_names
        # Shapes of the state and memory without the batch axis, as the encoder makes them.
        encoded = self.encode_function().structured_outputs
        self.input_shapes = {name: encoded[name].shape[1:].as_list() for name in encoded}

    # === The functions ===

    def encode(self, source_ids):
        """`(batch, src_len)` ids -> dict of state and memory tensors."""
        return encode_source(self.encoder, self.bridge, self.decoder, source_ids)

    def decode_step(self, token_ids, *tensors):
        """`token_ids` and the state and memory tensors (in `step_input_names()` order)."""
        inputs = dict(zip(self.state_names + self.memory_names, tensors))
        return self._step(token_ids, inputs)

    def _step(self, token_ids, inputs):
        state = {name: inputs[name] for name in self.state_names}
        memory = {name: inputs[name] for name in self.memory_names}
        return named_step(self.decoder, token_ids, state, memory)

    def greedy(self, source_ids):
        """The whole greedy loop: `source_ids` -> `tokens` and `lengths`."""
        encoded = self.encode(source_ids)
        state = {name: encoded[name] for name in self.state_names}
        memory = {name: encoded[name] for name in self.memory_names}
        batch = tf.shape(source_ids)[0]
        steps = self.max_decode_length
        # A preallocated buffer written with a one-hot mask keeps every shape static
        # inside the loop (TFLite refuses dynamically shaped TensorArrays).
        tokens = tf.zeros(tf.stack([batch, steps]), tf.int32)
        lengths = tf.zeros(tf.stack([batch]), tf.int32)
        finished = tf.zeros(tf.stack([batch]), tf.bool)
        previous = tf.fill(tf.stack([batch]), START_ID)

        def keep_going(t, previous, state, tokens, lengths, finished):
            return tf.logical_and(t < steps, tf.logical_not(tf.reduce_all(finished)))

        def one_step(t, previous, state, tokens, lengths, finished):
            outputs = self._step(previous, {**state, **memory})
            new_state = {name: outputs[f"next_{name}"] for name in self.state_names}
            chosen = tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32)
            chosen = tf.where(finished, PAD_ID, chosen)
            at_t = tf.cast(tf.equal(tf.range(steps), t), tf.int32)
            tokens = tokens + tf.expand_dims(chosen, 1) * tf.expand_dims(at_t, 0)
            ends = tf.equal(chosen, END_ID)
            lengths = lengths + tf.cast(tf.logical_not(finished | ends), tf.int32)
            return t + 1, chosen, new_state, tokens, lengths, finished | ends

        _, _, _, tokens, lengths, _ = tf.while_loop(
            keep_going, one_step,
            (tf.constant(0), previous, state, tokens, lengths, finished),
            maximum_iterations=steps,
        )
        return {"tokens": tokens, "lengths": lengths}

    # === Signatures ===

    def source_spec(self, batch_size=None):
        return tf.TensorSpec([batch_size, None], tf.int32, name="source_ids")

    def step_input_names(self):
        """The inputs of `decode_step`, in order."""
        return ["token_ids"] + self.state_names + self.memory_names

    def step_specs(self, batch_size=None):
        specs = [tf.TensorSpec([batch_size], tf.int32, name="token_ids")]
        for name in self.state_names + self.memory_names:
            specs.append(tf.TensorSpec([batch_size] + self.input_shapes[name], tf.float32, name=name))
        return specs

    def encode_function(self, batch_size=None):
        return tf.function(self.encode).get_concrete_function(self.source_spec(batch_size))

    def step_function(self, batch_size=None):
        return tf.function(self.decode_step).get_concrete_function(*self.step_specs(batch_size))

    def greedy_function(self, batch_size=None):
        return tf.function(self.greedy).get_concrete_function(self.source_spec(batch_size))
