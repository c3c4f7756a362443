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
  device calls it once; a row leaves the loop's batch when it ends. Row `i` holds
  `lengths[i]` generated tokens, then the end token (when it was generated), then
  padding;
- `beam`: `source_ids` and `length_penalty ()` float32 -> the `beam_size` best
  hypotheses of each source, best first: `tokens (batch, beam, max_decode_length)`,
  `lengths`, `scores`, `ranking_scores`, `finished (batch, beam)` and `count (batch,)`
  (how many of the `beam_size` rows hold a hypothesis): the whole beam search of
  `keras_s2s.decoding.beam_search` in one graph, its rules step for step; a source
  leaves the loop's batch when it has `beam_size` finished hypotheses.

All three call the model's own layers (`Decoder.step` is the one decoder step), so the
exports compute what Keras computes.
"""

import tensorflow as tf

from keras_s2s.decoding import step as contract
from keras_s2s.models.inference import encode_source, named_features_step, named_step
from keras_s2s.text.vocabulary import END_ID, START_ID


class ExportGraphs(tf.Module):
    """The export functions of a `Seq2Seq`.

    Args:
        model: a built `Seq2Seq`.
        max_decode_length: the most tokens `greedy` and `beam` generate per source (the
            end token included), as `keras_s2s.decoding.greedy_search`'s `max_length`.
        beam_size: the beam size of the `beam` graph (fixed at export: the loop's
            tensors need static shapes in TFLite).

    Example:
    >>> from keras_s2s.models import Seq2Seq
    >>> graphs = ExportGraphs(Seq2Seq(20, 20, units=8), max_decode_length=20)
    >>> graphs.step_input_names()
    ['token_ids', 'h0', 'encoder_outputs', 'attention_keys', 'source_mask']
    >>> outputs = graphs.greedy(tf.constant([[5, 6, 7]]))
    >>> outputs["tokens"].shape, outputs["lengths"].shape
    (TensorShape([1, 20]), TensorShape([1]))
    """

    @property
    def model(self):
        """The `Seq2Seq` the graphs were traced from."""
        return self._model()

    def __init__(self, model, max_decode_length, beam_size=4):
        super().__init__(name="seq2seq_export")
        if int(max_decode_length) < 1:
            raise ValueError(f"max_decode_length must be at least 1, got {max_decode_length}.")
        if not 1 <= int(beam_size) <= model.target_vocab_size:
            raise ValueError(f"beam_size must be between 1 and the target vocabulary "
                             f"({model.target_vocab_size}), got {beam_size}.")
        self.beam_size = int(beam_size)
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

    def encode(self, source_ids, encoder_rnn=None):
        """`(batch, src_len)` ids -> dict of state and memory tensors.

        `encoder_rnn`: what the encoder's call gives, `(outputs, states)`, when another
        graph computes it (`after_encoder_rnn`); by default the encoder is called here.
        """
        encoder = self.encoder if encoder_rnn is None else (lambda ids: encoder_rnn)
        return encode_source(encoder, self.bridge, self.decoder, source_ids)

    def decode_step(self, token_ids, *tensors):
        """`token_ids` and the state and memory tensors (in `step_input_names()` order)."""
        inputs = dict(zip(self.state_names + self.memory_names, tensors))
        return self._step(token_ids, inputs)

    def decode_features(self, token_ids, *tensors):
        """`decode_step` without the output layer: `features` instead of `logits` (the
        graph a vocabulary shortlist decodes with)."""
        inputs = dict(zip(self.state_names + self.memory_names, tensors))
        state, memory = contract.split_encoded(inputs, self.state_names, self.memory_names)
        return named_features_step(self.decoder, token_ids, state, memory)

    def _step(self, token_ids, inputs):
        state, memory = contract.split_encoded(inputs, self.state_names, self.memory_names)
        return named_step(self.decoder, token_ids, state, memory)

    def greedy(self, source_ids, encoder_rnn=None):
        """The whole greedy loop: `source_ids` -> `tokens` and `lengths`.

        A row leaves the batch at the step its end token is chosen: the loop carries only
        the rows still going (their state, their memory and their index in the batch),
        so a batch of sentences of mixed lengths costs the decoder steps its sentences
        need, not `batch x longest`. Each token is written into the full-batch buffer at
        its row's index.
        """
        state, memory = contract.split_encoded(self.encode(source_ids, encoder_rnn),
                                               self.state_names, self.memory_names)
        batch = tf.shape(source_ids)[0]
        steps = self.max_decode_length
        # A preallocated buffer written with a one-hot mask keeps the output's shape
        # static inside the loop (TFLite refuses dynamically shaped TensorArrays).
        tokens = tf.zeros(tf.stack([batch, steps]), tf.int32)
        lengths = tf.zeros(tf.stack([batch]), tf.int32)
        rows = tf.range(batch)
        previous = tf.fill(tf.stack([batch]), START_ID)

        def keep_going(t, previous, rows, state, memory, tokens, lengths):
            return tf.logical_and(t < steps, tf.size(rows) > 0)

        def one_step(t, previous, rows, state, memory, tokens, lengths):
            logits, new_state, _ = contract.split_step_outputs(
                self._step(previous, {**state, **memory}), self.state_names)
            chosen = tf.argmax(logits, axis=-1, output_type=tf.int32)
            at_t = tf.cast(tf.equal(tf.range(steps), t), tf.int32)

            def to_batch(values):
                """The rows still going -> the whole batch (zeros for the others)."""
                scattered = tf.scatter_nd(tf.expand_dims(rows, 1), values, tf.stack([batch]))
                scattered.set_shape(lengths.shape)  # a static batch stays static
                return scattered

            tokens = tokens + tf.expand_dims(to_batch(chosen), 1) * tf.expand_dims(at_t, 0)
            going = tf.not_equal(chosen, END_ID)
            lengths = lengths + to_batch(tf.cast(going, tf.int32))
            keep = tf.cast(tf.reshape(tf.where(going), [-1]), tf.int32)

            def still(values):
                return {name: tf.gather(value, keep) for name, value in values.items()}

            return (t + 1, tf.gather(chosen, keep), tf.gather(rows, keep), still(new_state),
                    still(memory), tokens, lengths)

        def any_batch(value):
            return tf.TensorShape([None]).concatenate(value.shape[1:])

        loop = (tf.constant(0), previous, rows, state, memory, tokens, lengths)
        _, _, _, _, _, tokens, lengths = tf.while_loop(
            keep_going, one_step, loop,
            shape_invariants=(tf.TensorShape([]),) + tf.nest.map_structure(any_batch, loop[1:5])
            + (tokens.shape, lengths.shape),
            maximum_iterations=steps,
        )
        return {"tokens": tokens, "lengths": lengths}

    def beam(self, source_ids, length_penalty, encoder_rnn=None):
        """The whole beam search: `source_ids` and the GNMT `length_penalty` alpha ->
        the `beam_size` best hypotheses of each source (see the module docstring).

        The rules of `keras_s2s.decoding.beam_search`, on tensors with static shapes:
        each step ranks the `2 * beam_size` best extensions of the live beams; those
        among the first `beam_size` that end are kept as finished, the first
        `beam_size` that do not end stay alive. A source is done with `beam_size`
        finished hypotheses, and leaves the loop's batch then (as a greedy row does at
        its end token); at `max_decode_length` its live ones count too. Rows are
        reordered with one-hot matrix products (exact on these values), which every
        converter maps to builtin ops.
        """
        k, steps, vocab = self.beam_size, self.max_decode_length, self.decoder.vocab_size
        slots = 2 * k  # finished hypotheses a source can collect (fewer than k, then k more)
        encoded = self.encode(source_ids, encoder_rnn)
        batch = tf.shape(source_ids)[0]
        alpha = tf.cast(length_penalty, tf.float32)

        def penalty(length):
            return tf.pow((5.0 + tf.cast(length, tf.float32)) / 6.0, alpha)

        def to_batch(sources, values):
            """Values of some sources -> the whole batch (zeros for the others)."""
            shape = tf.concat([[batch], tf.shape(values)[1:]], 0)
            scattered = tf.scatter_nd(tf.expand_dims(sources, 1), values, shape)
            scattered.set_shape(done["count"].shape.concatenate(values.shape[1:]))  # static stays
            return scattered

        # The finished hypotheses of every source, in the order found.
        done = {
            "tokens": tf.zeros(tf.stack([batch, slots, steps]), tf.int32),
            "scores": tf.fill(tf.stack([batch, slots]), _NO_SCORE),
            "ranks": tf.fill(tf.stack([batch, slots]), _NO_SCORE),
            "lengths": tf.zeros(tf.stack([batch, slots]), tf.int32),
            "count": tf.zeros(tf.stack([batch]), tf.int32),
        }
        # The sources still searching (their indices in the batch) and their k live
        # beams: `k` rows of state and memory per source, scores and tokens so far.
        live = {
            "sources": tf.range(batch),
            "tokens": tf.fill(tf.stack([batch * k]), START_ID),
            "state": {name: _repeat_rows(encoded[name], k) for name in self.state_names},
            "memory": {name: _repeat_rows(encoded[name], k) for name in self.memory_names},
            # All beams start equal: keep one, so that the first step has no copies.
            "scores": tf.tile(tf.expand_dims(tf.where(tf.range(k) == 0, 0.0, _NO_SCORE), 0),
                              tf.stack([batch, 1])),
            "history": tf.zeros(tf.stack([batch, k, steps]), tf.int32),
        }

        def keep_going(t, live, done):
            return tf.logical_and(t < steps, tf.size(live["sources"]) > 0)

        def one_step(t, live, done):
            sources = live["sources"]
            logits, new_state, _ = contract.split_step_outputs(
                self._step(live["tokens"], {**live["state"], **live["memory"]}),
                self.state_names)
            log_probs = tf.nn.log_softmax(logits)
            candidates = (tf.reshape(live["scores"], [-1, k, 1])
                          + tf.reshape(log_probs, [-1, k, vocab]))
            top_scores, top = tf.math.top_k(tf.reshape(candidates, [-1, k * vocab]), slots)
            parents, tokens = top // vocab, top % vocab
            ends = tf.equal(tokens, END_ID)
            # Extensions that end, among the first k, become finished hypotheses.
            new_done = ends & (tf.range(slots) < k)[None, :] & (top_scores > _NO_SCORE / 2)
            count = tf.gather(done["count"], sources)                     # (n,)
            slot = count[:, None] + tf.cumsum(tf.cast(new_done, tf.int32), axis=1) - 1
            into = tf.cast(new_done[:, :, None] & tf.equal(slot[:, :, None], tf.range(slots)),
                           tf.float32)                                  # (n, 2k, slots)
            filled = to_batch(sources, tf.cast(tf.reduce_max(into, axis=1) > 0, tf.int32)) > 0
            into_t = tf.transpose(into, [0, 2, 1])
            parent_history = _reorder(parents, live["history"])        # (n, 2k, steps)
            added_tokens = tf.cast(tf.round(tf.matmul(
                into_t, tf.cast(parent_history, tf.float32))), tf.int32)
            added_scores = to_batch(sources, tf.squeeze(
                tf.matmul(into_t, top_scores[:, :, None]), -1))
            found = tf.reduce_sum(tf.cast(new_done, tf.int32), axis=1)
            count = count + found
            done = {
                "tokens": done["tokens"] + to_batch(sources, added_tokens),
                "scores": tf.where(filled, added_scores, done["scores"]),
                "ranks": tf.where(filled, added_scores / penalty(t + 1), done["ranks"]),
                "lengths": tf.where(filled, t, done["lengths"]),
                "count": done["count"] + to_batch(sources, found),
            }
            # The first k extensions that do not end stay alive (2k always hold k).
            alive = tf.logical_not(ends)
            rank = tf.cumsum(tf.cast(alive, tf.int32), axis=1) - 1
            pick = tf.cast(alive[:, :, None] & tf.equal(rank[:, :, None], tf.range(k)),
                           tf.int32)                                    # (n, 2k, k)
            next_parents = tf.reduce_sum(pick * parents[:, :, None], axis=1)
            next_tokens = tf.reduce_sum(pick * tokens[:, :, None], axis=1)
            next_scores = tf.reduce_sum(tf.cast(pick, tf.float32) * top_scores[:, :, None], axis=1)
            at_t = tf.cast(tf.equal(tf.range(steps), t), tf.int32)
            history = _reorder(next_parents, live["history"]) + next_tokens[:, :, None] * at_t
            state = {}
            for name, value in new_state.items():
                rows = tf.reshape(value, tf.concat([[-1, k], tf.shape(value)[1:]], 0))
                state[name] = tf.reshape(_reorder(next_parents, rows), tf.shape(value))
                state[name].set_shape(value.shape)
            # A source with k finished hypotheses is done: it leaves.
            keep = tf.cast(tf.reshape(tf.where(count < k), [-1]), tf.int32)
            keep_rows = tf.reshape(keep[:, None] * k + tf.range(k)[None, :], [-1])

            def rows_of(values):
                return {name: tf.gather(value, keep_rows) for name, value in values.items()}

            return t + 1, {
                "sources": tf.gather(sources, keep),
                "tokens": tf.gather(tf.reshape(next_tokens, [-1]), keep_rows),
                "state": rows_of(state),
                "memory": rows_of(live["memory"]),
                "scores": tf.gather(next_scores, keep),
                "history": tf.gather(history, keep),
            }, done

        def any_batch(value):
            return tf.TensorShape([None]).concatenate(value.shape[1:])

        t, live, done = tf.while_loop(
            keep_going, one_step, (tf.constant(0), live, done),
            shape_invariants=(tf.TensorShape([]), tf.nest.map_structure(any_batch, live),
                              tf.nest.map_structure(lambda value: value.shape, done)),
            maximum_iterations=steps,
        )
        # Candidates: the finished hypotheses in the order found, then (for a source
        # still searching at the length limit) the live ones; the k best by ranking
        # score, ties in that order.
        searching = to_batch(live["sources"], tf.ones_like(live["sources"])) > 0
        scores = tf.where(searching[:, None], to_batch(live["sources"], live["scores"]),
                          _NO_SCORE)
        history = to_batch(live["sources"], live["history"])
        live_ok = scores > _NO_SCORE / 2
        done_ok = tf.range(slots)[None, :] < done["count"][:, None]
        ranks = tf.concat([tf.where(done_ok, done["ranks"], _NO_SCORE),
                           tf.where(live_ok, scores / penalty(t), _NO_SCORE)], 1)
        best_ranks, best = tf.math.top_k(ranks, k)
        lengths = tf.concat([done["lengths"], tf.fill(tf.shape(scores), t)], 1)
        finished = tf.concat([tf.ones_like(done["lengths"]), tf.zeros_like(done["lengths"][:, :k])], 1)
        count = tf.reduce_sum(tf.cast(done_ok, tf.int32), 1) + tf.reduce_sum(tf.cast(live_ok, tf.int32), 1)
        return {
            "tokens": _reorder(best, tf.concat([done["tokens"], history], 1)),
            "lengths": _reorder(best, lengths),
            "scores": _reorder(best, tf.concat([done["scores"], scores], 1)),
            "ranking_scores": best_ranks,
            "finished": _reorder(best, finished),
            "count": tf.minimum(count, k),
        }

    # === Signatures ===

    def source_spec(self, batch_size=None):
        return tf.TensorSpec([batch_size, None], tf.int32, name=contract.SOURCE_IDS)

    def step_input_names(self):
        """The inputs of `decode_step`, in order."""
        return [contract.TOKEN_IDS] + self.state_names + self.memory_names

    def step_specs(self, batch_size=None):
        specs = [tf.TensorSpec([batch_size], tf.int32, name=contract.TOKEN_IDS)]
        for name in self.state_names + self.memory_names:
            specs.append(tf.TensorSpec([batch_size] + self.input_shapes[name], tf.float32, name=name))
        return specs

    def encode_function(self, batch_size=None):
        return tf.function(self.encode).get_concrete_function(self.source_spec(batch_size))

    def step_function(self, batch_size=None):
        return tf.function(self.decode_step).get_concrete_function(*self.step_specs(batch_size))

    def features_function(self, batch_size=None):
        return tf.function(self.decode_features).get_concrete_function(*self.step_specs(batch_size))

    def greedy_function(self, batch_size=None):
        return tf.function(self.greedy).get_concrete_function(self.source_spec(batch_size))

    def beam_specs(self, batch_size=None):
        return [self.source_spec(batch_size), tf.TensorSpec([], tf.float32, name="length_penalty")]

    def beam_function(self, batch_size=None):
        return tf.function(self.beam).get_concrete_function(*self.beam_specs(batch_size))

    def encoder_rnn_specs(self):
        """The specs of what the encoder's call gives: its outputs, then its final states
        (named as `keras_s2s.export.onnx_encoder` joins them)."""
        from keras_s2s.export.onnx_encoder import RNN_OUTPUTS, rnn_state_name

        dim = self.encoder.output_dim
        count = self.encoder.num_layers * self.encoder.states_per_layer
        return ([tf.TensorSpec([None, None, dim], tf.float32, name=RNN_OUTPUTS)]
                + [tf.TensorSpec([None, dim], tf.float32, name=rnn_state_name(i))
                   for i in range(count)])

    def batched_tflite_function(self, role):
        """The concrete function of `encode`, `greedy` or `beam` for TFLite, with a
        dynamic batch: the encoder's RNNs run as `keras_s2s.export.tflite_encoder`'s
        loop (Keras's own RNN loop converts for batch 1 only)."""
        from keras_s2s.export.tflite_encoder import encoder_rnn

        if role == "beam":
            def function(source_ids, length_penalty):
                return self.beam(source_ids, length_penalty,
                                 encoder_rnn=encoder_rnn(self.encoder, source_ids))
            return tf.function(function).get_concrete_function(*self.beam_specs())
        method = {"encode": self.encode, "greedy": self.greedy}[role]

        def function(source_ids):
            return method(source_ids, encoder_rnn=encoder_rnn(self.encoder, source_ids))
        return tf.function(function).get_concrete_function(self.source_spec())

    def after_encoder_rnn(self, role):
        """`(function, input signature)` of `encode`, `greedy` or `beam` taking the
        encoder's outputs and states as inputs after `source_ids` (the ONNX export
        computes them with ONNX's own RNN operators, `onnx_encoder`)."""
        method, specs = {"encode": (self.encode, [self.source_spec()]),
                         "greedy": (self.greedy, [self.source_spec()]),
                         "beam": (self.beam, self.beam_specs())}[role]
        rnn_specs = self.encoder_rnn_specs()

        def function(source_ids, *tensors):
            rnn, others = tensors[:len(rnn_specs)], tensors[len(rnn_specs):]
            return method(source_ids, *others, encoder_rnn=(rnn[0], list(rnn[1:])))

        return function, [specs[0], *rnn_specs, *specs[1:]]


# The score of an empty beam slot (finite: some converters and runtimes handle -inf
# poorly); any real score is far above half of it.
_NO_SCORE = -1e30


def _reorder(rows, values):
    """`values (n, m, ...)` -> `(n, len(rows[0]), ...)`, row `j` of each source being
    `values[rows[j]]`: a one-hot matrix product (exact on these values), which every
    converter maps to builtin ops."""
    choice = tf.one_hot(rows, tf.shape(values)[1], dtype=tf.float32)
    flat = tf.reshape(tf.cast(values, tf.float32),
                      tf.stack([tf.shape(values)[0], tf.shape(values)[1], -1]))
    picked = tf.reshape(tf.matmul(choice, flat),
                        tf.concat([tf.shape(rows), tf.shape(values)[2:]], 0))
    picked.set_shape(rows.shape.concatenate(values.shape[2:]))
    return tf.cast(tf.round(picked), values.dtype) if values.dtype.is_integer else picked


def _repeat_rows(value, times):
    """`(batch, ...)` -> `(batch * times, ...)`, each row `times` times in a row
    (`keras_s2s.decoding.common.repeat_rows`)."""
    tiled = tf.tile(tf.expand_dims(value, 1), [1, times] + [1] * (len(value.shape) - 1))
    rows = tf.reshape(tiled, tf.concat([[-1], tf.shape(value)[1:]], 0))
    rows.set_shape([None] + value.shape[1:].as_list())
    return rows
