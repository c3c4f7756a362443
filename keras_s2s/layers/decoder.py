"""The attention decoder: one step, used by teacher forcing and by stepwise decoding."""

import keras
from keras import ops

from keras_s2s.choices import ATTENTIONS, PLACEMENTS
from keras_s2s.layers.attention import Attention
from keras_s2s.layers.bridge import decoder_state_names
from keras_s2s.layers.encoder import check_rnn_arguments


@keras.saving.register_keras_serializable(package="keras_s2s")
class Decoder(keras.layers.Layer):
    """An RNN decoder with optional attention over the encoder states.

    Everything happens in `forward_step()`, one target position at a time: training
    (`call()`, teacher forcing over a whole target sequence) and inference (`step()`,
    one token per call) both run that same method on the same weights.

    Attention placements:
    - `"luong"`: the RNN runs first; its new output `h_t` queries the encoder states and
      the attentional vector is `tanh(W_c [c_t; h_t])`. With `input_feeding`, the
      previous attentional vector is concatenated to the next input embedding.
    - `"bahdanau"`: the previous top-layer state `s_{t-1}` queries the encoder states
      and the context is concatenated to the input embedding of the RNN; the output is
      `tanh(W_c [c_t; h_t])` as well.
    With `attention="none"` the decoder is a plain RNN language model conditioned only
    on its initial state (the bridged encoder state): the classic seq2seq baseline.

    State is explicit: a dict with `h{i}` (and `c{i}` for an LSTM) for each layer, plus
    `attentional` with input feeding. Nothing is kept on the layer between calls.

    Args:
        vocab_size: size of the target vocabulary (the number of logits).
        embedding_dim: size of the target embeddings.
        units: RNN units (and size of the attentional vector).
        cell: `"gru"` or `"lstm"`.
        num_layers: stacked RNN cells.
        attention: `"none"`, `"dot"`, `"general"`, `"concat"` or `"bahdanau"`.
        attention_placement: `"luong"` or `"bahdanau"` (see above).
        input_feeding: feed the previous attentional vector (Luong placement only).
        attention_units: hidden size of the concat / bahdanau scores (default `units`).
        dropout: dropout rate on the target embeddings and before the output layer.
        teacher_forcing: share of training steps fed the gold previous token; below 1,
            the other steps get the decoder's own previous prediction (scheduled
            sampling, Bengio et al. 2015), which narrows the gap between training and
            decoding (exposure bias). Inference is unaffected.
        seed: seed of the dropout and scheduled-sampling randomness.
        **kwargs: other `keras.layers.Layer` arguments.

    Call arguments:
        target_ids: `(batch, tgt_len)` decoder inputs (the target shifted right,
            starting with the start token).
        initial_state: the state dict, e.g. from `Bridge` and `initial_state()`.
        values: `(batch, src_len, value_dim)` encoder outputs (needed with attention).
        source_mask: `(batch, src_len)` true (or 1) on real source tokens.
        training: whether dropout is active.
        return_attention: also return the attention weights.

    Returns:
        `(batch, tgt_len, vocab_size)` logits; with `return_attention`, a tuple of the
        logits and the `(batch, tgt_len, src_len)` attention weights.

    Example:
    >>> import numpy as np
    >>> decoder = Decoder(vocab_size=20, embedding_dim=8, units=16, attention="general")
    >>> state = decoder.initial_state({"h0": np.zeros((2, 16))})
    >>> logits = decoder(np.ones((2, 3)), state, np.ones((2, 5, 8)), np.ones((2, 5)))
    >>> tuple(logits.shape)   # (batch, target length, vocabulary)
    (2, 3, 20)
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        cell="gru",
        num_layers=1,
        attention="dot",
        attention_placement="luong",
        input_feeding=False,
        attention_units=None,
        dropout=0.0,
        teacher_forcing=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_rnn_arguments(cell, num_layers, dropout)
        if attention not in ATTENTIONS:
            raise ValueError(
                f"Unknown attention {attention!r}: use one of {', '.join(ATTENTIONS)}."
            )
        if attention_placement not in PLACEMENTS:
            raise ValueError(
                f"Unknown attention_placement {attention_placement!r}: use 'luong' or "
                "'bahdanau'."
            )
        if input_feeding and (attention == "none" or attention_placement != "luong"):
            raise ValueError(
                "input_feeding feeds the previous attentional vector back into the RNN; "
                "it needs attention with attention_placement='luong' (the 'bahdanau' "
                "placement already feeds the context)."
            )
        if not 0.0 <= float(teacher_forcing) <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing}.")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.num_layers = num_layers
        self.attention = attention
        self.attention_placement = attention_placement
        self.input_feeding = input_feeding
        self.attention_units = attention_units
        self.dropout = dropout
        self.teacher_forcing = teacher_forcing
        self.seed = seed
        self.rnn_state_names = decoder_state_names(cell, num_layers)
        self.state_names = self.rnn_state_names + (["attentional"] if input_feeding else [])

        # === Layers ===
        # Sub-layers compute in this layer's dtype policy; the logits leave in float32.
        dtype = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding",
                                                dtype=dtype)
        cell_class = keras.layers.GRUCell if cell == "gru" else keras.layers.LSTMCell
        self.cells = [cell_class(units, name=f"{cell}_cell_{i}", dtype=dtype)
                      for i in range(num_layers)]
        self.attention_layer = None
        self.attentional_dense = None
        if attention != "none":
            self.attention_layer = Attention(attention, attention_units, name="attention",
                                             dtype=dtype)
            self.attentional_dense = keras.layers.Dense(
                units, activation="tanh", use_bias=False, name="attentional_dense",
                dtype=dtype,
            )
        self.dropout_layer = keras.layers.Dropout(dropout, seed=seed, name="dropout",
                                                  dtype=dtype)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.output_dense = keras.layers.Dense(vocab_size, name="output_dense", dtype=dtype)

    @property
    def has_attention(self):
        return self.attention_layer is not None

    @property
    def memory_names(self):
        """The names of the dict `prepare_memory()` returns, in step-input order."""
        if not self.has_attention:
            return []
        keys = [] if self.attention == "dot" else ["attention_keys"]
        return ["encoder_outputs", *keys, "source_mask"]

    def build(self, target_ids_shape, initial_state_shape=None, values_shape=None,
              source_mask_shape=None):
        if self.has_attention and values_shape is None:
            raise ValueError(f"A decoder with {self.attention} attention needs `values`.")
        self.embedding.build(target_ids_shape)
        value_dim = values_shape[-1] if self.has_attention else 0
        rnn_input_dim = self.embedding_dim
        if self.input_feeding:
            rnn_input_dim += self.units
        if self.has_attention and self.attention_placement == "bahdanau":
            rnn_input_dim += value_dim
        for cell in self.cells:
            cell.build((None, rnn_input_dim))
            rnn_input_dim = self.units
        if self.has_attention:
            self.attention_layer.build((None, self.units), (None, None, value_dim))
            self.attentional_dense.build((None, value_dim + self.units))
        self.output_dense.build((None, self.units))
        self.built = True

    def initial_state(self, rnn_state):
        """Completes a bridged RNN state dict with the zero `attentional` vector."""
        state = {name: rnn_state[name] for name in self.rnn_state_names}
        if self.input_feeding:
            h0 = rnn_state["h0"]
            state["attentional"] = ops.zeros_like(h0)
        return state

    def prepare_memory(self, values, source_mask):
        """What every step needs from the source, computed once per source.

        Returns a dict with `encoder_outputs` (the values), `source_mask` (float 0/1)
        and, except for dot attention whose keys are the values, `attention_keys`;
        an empty dict without attention.
        """
        if not self.has_attention:
            return {}
        memory = {
            "encoder_outputs": values,
            "source_mask": ops.cast(source_mask, values.dtype),
        }
        if self.attention != "dot":
            memory["attention_keys"] = self.attention_layer.project_keys(values)
        return memory

    def forward_step(self, inputs, state, memory, training=None):
        """One decoder step on embedded inputs.

        Args:
            inputs: `(batch, embedding_dim)` embedded previous target tokens.
            state: the state dict.
            memory: the dict from `prepare_memory()`.

        Returns:
            `(output, new_state, weights)`: the `(batch, units)` vector the output layer
            reads, the new state dict and the `(batch, src_len)` attention weights
            (`None` without attention).
        """
        rnn_inputs = [inputs]
        if self.input_feeding:
            rnn_inputs.append(state["attentional"])
        context = weights = None
        if self.has_attention and self.attention_placement == "bahdanau":
            query = state[f"h{self.num_layers - 1}"]
            context, weights = self._attend(query, memory, training)
            rnn_inputs.append(context)
        x = ops.concatenate(rnn_inputs, axis=-1) if len(rnn_inputs) > 1 else inputs
        x, new_state = self._rnn_step(x, state, training)
        if self.has_attention:
            if self.attention_placement == "luong":
                context, weights = self._attend(x, memory, training)
            x = self.attentional_dense(ops.concatenate([context, x], axis=-1))
        if self.input_feeding:
            new_state["attentional"] = x
        return x, new_state, weights

    def _rnn_step(self, x, state, training=None):
        """The stacked RNN cells on one step: `(output, new RNN state dict)`."""
        new_state = {}
        for i, cell in enumerate(self.cells):
            cell_state = [state[f"h{i}"]] + ([state[f"c{i}"]] if self.cell == "lstm" else [])
            x, cell_state = cell(x, cell_state, training=training)
            new_state.update(zip(self.rnn_state_names[i * len(cell_state):], cell_state))
        return x, new_state

    @property
    def attends_after_rnn_only(self):
        """Whether, under teacher forcing, the RNN can run over the whole target before
        any attention: nothing the attention computes feeds back into the RNN (no
        attention, or Luong placement without input feeding)."""
        return not self.input_feeding and (
            not self.has_attention or self.attention_placement == "luong")

    def _teacher_forced_after_rnn(self, inputs, initial_state, memory, training):
        """`call()` when `attends_after_rnn_only`: the RNN cells step through the target
        alone, then the attention and the attentional layer run on every position at
        once. Same layers and weights as `forward_step()`, fewer ops per time step."""
        def body(carry, x_t):
            state, _ = carry
            carry = self._rnn_step(x_t, state, training)[::-1]
            return carry, carry

        state = {name: initial_state[name] for name in self.rnn_state_names}
        first = state[self.rnn_state_names[0]]
        _, (_, outputs) = ops.scan(body, (state, ops.zeros_like(first)),
                                   ops.transpose(inputs, (1, 0, 2)))
        outputs = ops.transpose(outputs, (1, 0, 2))
        weights = None
        if self.has_attention:
            context, weights = self._attend(outputs, memory, training)
            outputs = self.attentional_dense(ops.concatenate([context, outputs], axis=-1))
        return outputs, weights

    def _attend(self, query, memory, training=None):
        return self.attention_layer(
            query, memory["encoder_outputs"], keys=memory.get("attention_keys"),
            mask=memory["source_mask"], training=training,
        )

    def call(
        self,
        target_ids,
        initial_state,
        values=None,
        source_mask=None,
        training=None,
        return_attention=False,
    ):
        if source_mask is None and values is not None:
            source_mask = ops.ones(ops.shape(values)[:2])
        memory = self.prepare_memory(values, source_mask)
        inputs = self.dropout_layer(self.embedding(target_ids), training=training)
        scheduled_sampling = bool(training) and self.teacher_forcing < 1.0
        if self.attends_after_rnn_only and not scheduled_sampling:
            outputs, weights = self._teacher_forced_after_rnn(inputs, initial_state, memory,
                                                              training)
        else:
            outputs, weights = self._stepwise(target_ids, inputs, initial_state, memory,
                                              training, scheduled_sampling)
        logits = self.logits(self.dropout_layer(outputs, training=training))
        if not return_attention:
            return logits
        if not self.has_attention:
            raise ValueError("return_attention=True needs a decoder with attention.")
        return logits, weights

    def _stepwise(self, target_ids, inputs, initial_state, memory, training, scheduled_sampling):
        """`forward_step()` at every target position in turn (`ops.scan`), feeding back
        the attention (Bahdanau placement, input feeding) or the model's own predictions
        (scheduled sampling). Returns `(outputs, weights)`, both batch-major."""
        if scheduled_sampling:
            # Which positions get the gold token; the first (the start token) always does.
            draws = keras.random.uniform(ops.shape(target_ids), seed=self.seed_generator)
            use_gold = ops.concatenate(
                [ops.ones_like(draws[:, :1], dtype="bool"), draws[:, 1:] < self.teacher_forcing],
                axis=1,
            )
            # One tensor to scan over, the choice as a last channel: Keras' TensorFlow
            # scan (3.15) fails on nested inputs of unknown length.
            steps = ops.transpose(ops.concatenate(
                [inputs, ops.expand_dims(ops.cast(use_gold, inputs.dtype), -1)], axis=-1),
                (1, 0, 2))
        else:
            steps = ops.transpose(inputs, (1, 0, 2))

        def body(carry, step_inputs):
            state, _, _, prediction = carry
            if scheduled_sampling:
                gold, use_gold_t = step_inputs[:, :-1], step_inputs[:, -1:] > 0.5
                x_t = ops.where(use_gold_t, gold, self.embedding(prediction))
            else:
                x_t = step_inputs
            output, new_state, weights = self.forward_step(x_t, state, memory, training)
            if scheduled_sampling:
                prediction = ops.cast(ops.argmax(self.output_dense(output), axis=-1), "int32")
            carry = (new_state, output, weights if self.has_attention else no_weights,
                     prediction)
            return carry, carry

        # The whole carry is stacked over time (Keras's TensorFlow scan wants the
        # stacked outputs shaped as the carry): state, output, weights, prediction.
        state = {name: initial_state[name] for name in self.state_names}
        first = state[self.rnn_state_names[0]]
        no_weights = ops.zeros_like(first[:, :1])
        weights0 = ops.zeros_like(memory["source_mask"]) if self.has_attention else no_weights
        no_prediction = ops.zeros_like(target_ids[:, 0])
        _, (_, outputs, weights, _) = ops.scan(
            body, (state, ops.zeros_like(first), weights0, no_prediction), steps
        )
        weights = ops.transpose(weights, (1, 0, 2)) if self.has_attention else None
        return ops.transpose(outputs, (1, 0, 2)), weights

    def step(self, token_ids, state, memory):
        """One inference step: `(batch,)` token ids -> `(logits, new_state, weights)`."""
        output, new_state, weights = self.forward_step(self.embedding(token_ids), state, memory)
        return self.logits(output), new_state, weights

    def logits(self, outputs):
        """The output layer, in float32 whatever the compute dtype (a softmax over the
        vocabulary, and the loss, need its range)."""
        return ops.cast(self.output_dense(outputs), "float32")

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "num_layers": self.num_layers,
            "attention": self.attention,
            "attention_placement": self.attention_placement,
            "input_feeding": self.input_feeding,
            "attention_units": self.attention_units,
            "dropout": self.dropout,
            "teacher_forcing": self.teacher_forcing,
            "seed": self.seed,
        }
