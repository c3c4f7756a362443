"""The stepwise inference model: encode a source once, then decode one step at a time."""

import keras
import numpy as np
from keras import ops

from keras_s2s import decoding
from keras_s2s.decoding import step as contract


def encode_source(encoder, bridge, decoder, source_ids):
    """Encoder, bridge and memory preparation: source ids -> dict of the initial decoder
    state and the memory (the `encode` step of every inference graph)."""
    outputs, encoder_states = encoder(source_ids)
    state = decoder.initial_state(bridge(encoder_states))
    memory = decoder.prepare_memory(outputs, ops.not_equal(source_ids, 0))
    return {**state, **memory}


def named_step(decoder, token_ids, state, memory):
    """`Decoder.step` with its outputs named for export: `logits`, `next_<state name>`
    and (with attention) `attention`."""
    return contract.step_outputs(*decoder.step(token_ids, state, memory))


def named_features_step(decoder, token_ids, state, memory):
    """`Decoder.step` without its output layer, named for export: `features` (what the
    output layer takes, float32), `next_<state name>` and (with attention)
    `attention` (the `decode_features` graph of a vocabulary shortlist)."""
    features, new_state, weights = decoder.forward_step(decoder.embedding(token_ids), state,
                                                        memory)
    return contract.step_outputs(ops.cast(features, "float32"), new_state, weights,
                                 first=contract.FEATURES)


def output_layer(decoder):
    """The decoder's output layer as numpy arrays: `(kernel (units, vocab), bias (vocab,))`,
    float32 (a step's logits are `features @ kernel + bias`)."""
    dense = decoder.output_dense
    kernel = np.asarray(ops.convert_to_numpy(dense.kernel), np.float32)
    bias = (np.asarray(ops.convert_to_numpy(dense.bias), np.float32) if dense.use_bias
            else np.zeros(kernel.shape[1], np.float32))
    return kernel, bias


def compiled(model):
    """`model` as a function of a dict of numpy arrays that returns a dict of numpy
    arrays, compiled for the Keras backend: `tf.function` on TensorFlow, `jax.jit` of
    the stateless call on JAX (the weights are arguments, so a later `fit` is seen),
    the eager call elsewhere."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        function = tf.function(model, reduce_retracing=True)
        return lambda inputs: {k: v.numpy() for k, v in function(inputs).items()}
    if backend == "jax":
        import jax

        @jax.jit
        def jitted(trainable, non_trainable, inputs):
            return model.stateless_call(trainable, non_trainable, inputs)[0]

        def call(inputs):
            outputs = jitted([v.value for v in model.trainable_variables],
                               [v.value for v in model.non_trainable_variables], inputs)
            return {k: np.asarray(v) for k, v in outputs.items()}

        return call
    return lambda inputs: {k: ops.convert_to_numpy(v) for k, v in model(inputs).items()}


class _Encode(keras.layers.Layer):
    """`encode_source` as a layer call."""

    def __init__(self, encoder, bridge, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.bridge, self.decoder = encoder, bridge, decoder

    def call(self, source_ids):
        return encode_source(self.encoder, self.bridge, self.decoder, source_ids)


class _StepLayer(keras.layers.Layer):
    """A named step function (`named_step`, `named_features_step`) as a layer call."""

    def __init__(self, decoder, step, **kwargs):
        super().__init__(**kwargs)
        self.decoder, self.step = decoder, step

    def call(self, token_ids, state, memory):
        return self.step(self.decoder, token_ids, state, memory)


class Seq2SeqInference:
    """Stepwise inference built from a trained `Seq2Seq`'s own layers (shared weights).

    Two Keras models with a dynamic batch dimension:
    - `encoder_model`: `{"source_ids": (batch, src_len) int32}` -> the initial decoder
      state (`h0`, `c0`, ..., `attentional`) and the memory (`encoder_outputs`,
      `attention_keys`, `source_mask`; empty without attention);
    - `step_model`: `{"token_ids": (batch,) int32, <state>, <memory>}` ->
      `{"logits": (batch, vocab), "next_<state name>": ..., "attention": (batch, src_len)}`.

    `encode()` and `decode_step()` run them on numpy arrays (compiled for the Keras
    backend: `compiled()`); `decode_step` is a step function for `keras_s2s.decoding`, which
    `greedy()`, `beam()` and `sample()` use.

    Example:
    >>> from keras_s2s.models import Seq2Seq
    >>> inference = Seq2Seq(20, 20, units=8).inference()
    >>> inference.state_names, inference.memory_names
    (['h0'], ['encoder_outputs', 'attention_keys', 'source_mask'])
    >>> [hypothesis] = inference.greedy(np.array([[5, 6, 7]]), start_id=1, end_id=2,
    ...                                 max_length=4)
    >>> len(hypothesis.tokens) <= 4, hypothesis.attention.shape[1]
    (True, 3)
    """

    def __init__(self, model):
        self.model = model
        decoder = model.decoder
        self.state_names = list(decoder.state_names)
        self.memory_names = decoder.memory_names

        source_ids = keras.Input(shape=(None,), dtype="int32", name=contract.SOURCE_IDS)
        encoded = _Encode(model.encoder, model.bridge, decoder, name="encode")(source_ids)
        self.encoder_model = keras.Model(
            {contract.SOURCE_IDS: source_ids}, encoded, name="seq2seq_encoder"
        )

        token_ids = keras.Input(shape=(), dtype="int32", name=contract.TOKEN_IDS)
        state = {
            name: keras.Input(shape=(decoder.units,), name=name) for name in self.state_names
        }
        memory = {
            name: keras.Input(shape=encoded[name].shape[1:], name=name)
            for name in self.memory_names
        }
        outputs = _StepLayer(decoder, named_step, name="decode_step")(token_ids, state, memory)
        self.step_model = keras.Model(
            contract.step_inputs(token_ids, state, memory), outputs, name="seq2seq_decode_step"
        )
        self._encode = compiled(self.encoder_model)
        self._step = compiled(self.step_model)
        self._step_inputs = (token_ids, state, memory)
        self._features = None

    def encode(self, source_ids):
        """`(batch, src_len)` ids -> `(state, memory)`, two dicts of numpy arrays."""
        source_ids = np.asarray(source_ids, dtype=np.int32)
        outputs = self._encode({contract.SOURCE_IDS: source_ids})
        return contract.split_encoded(outputs, self.state_names, self.memory_names)

    def decode_step(self, token_ids, state, memory):
        """One step on numpy arrays: `(logits, new_state, attention or None)`."""
        inputs = contract.step_inputs(np.asarray(token_ids, dtype=np.int32), state, memory)
        return contract.split_step_outputs(self._step(inputs), self.state_names)

    def decode_features(self, token_ids, state, memory):
        """One step without the output layer: `(features, new_state, attention or
        None)` (for a vocabulary shortlist, `keras_s2s.decoding.shortlist`)."""
        if self._features is None:
            token_ids_input, state_inputs, memory_inputs = self._step_inputs
            outputs = _StepLayer(self.model.decoder, named_features_step,
                                 name="decode_features")(token_ids_input, state_inputs,
                                                         memory_inputs)
            self._features = compiled(keras.Model(
                contract.step_inputs(token_ids_input, state_inputs, memory_inputs), outputs,
                name="seq2seq_decode_features"))
        inputs = contract.step_inputs(np.asarray(token_ids, dtype=np.int32), state, memory)
        return contract.split_step_outputs(self._features(inputs), self.state_names,
                                           first=contract.FEATURES)

    def greedy(self, source_ids, *, start_id, end_id, max_length=50):
        """Greedy decoding of a batch of sources; a list of `Hypothesis`."""
        state, memory = self.encode(source_ids)
        return decoding.greedy_search(
            self.decode_step, state, memory,
            start_id=start_id, end_id=end_id, max_length=max_length,
        )

    def beam(self, source_ids, *, start_id, end_id, max_length=50, beam_size=4,
             length_penalty=0.0, n_best=1):
        """Beam search of a batch of sources; for each source, `n_best` hypotheses."""
        state, memory = self.encode(source_ids)
        return decoding.beam_search(
            self.decode_step, state, memory,
            start_id=start_id, end_id=end_id, max_length=max_length,
            beam_size=beam_size, length_penalty=length_penalty, n_best=n_best,
        )

    def sample(self, source_ids, *, start_id, end_id, max_length=50, temperature=1.0,
               top_k=0, seed=None):
        """Sampling of a batch of sources; a list of `Hypothesis`."""
        state, memory = self.encode(source_ids)
        return decoding.sample(
            self.decode_step, state, memory,
            start_id=start_id, end_id=end_id, max_length=max_length,
            temperature=temperature, top_k=top_k, seed=seed,
        )
