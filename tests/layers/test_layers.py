"""Tests of the layers: attention, encoder, bridge and decoder."""

import json

import keras
import numpy as np
import pytest

from keras_s2s.layers import Attention, Bridge, Decoder, Encoder
from keras_s2s.layers.attention import SCORES

pytestmark = pytest.mark.every_backend  # and on JAX: scripts/test.sh


def to_numpy(tree):
    if isinstance(tree, dict):
        return {k: np.asarray(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [np.asarray(v) for v in tree]
    return np.asarray(tree)


# === Attention ===


def numpy_attention(layer, query, values, mask=None):
    """The attention formulas written out position by position in numpy.

    Stored kernels map row vectors (`x @ W`), so the matrix `W_a` of a formula like
    `W_a h_s` is the transpose of the stored kernel.
    """
    batch, src_len, _ = values.shape
    scores = np.zeros((batch, src_len))
    for b in range(batch):
        h_t = query[b]
        for s in range(src_len):
            h_s = values[b, s]
            if layer.score == "dot":
                scores[b, s] = h_t @ h_s
            elif layer.score == "general":
                W_a = np.asarray(layer.w_a).T
                scores[b, s] = h_t @ (W_a @ h_s)
            elif layer.score == "concat":
                W_a, v_a = np.asarray(layer.w_a).T, np.asarray(layer.v_a)
                scores[b, s] = v_a @ np.tanh(W_a @ np.concatenate([h_t, h_s]))
            else:
                W_1, W_2 = np.asarray(layer.w_1).T, np.asarray(layer.w_2).T
                bias, v = np.asarray(layer.bias), np.asarray(layer.v)
                scores[b, s] = v @ np.tanh(W_1 @ h_s + W_2 @ h_t + bias)
    weights = np.zeros_like(scores)
    for b in range(batch):
        real = np.ones(src_len, bool) if mask is None else mask[b].astype(bool)
        if real.any():
            e = np.exp(scores[b, real] - scores[b, real].max())
            weights[b, real] = e / e.sum()
    context = np.einsum("bs,bsd->bd", weights, values)
    return context, weights


def randomize(layer, rng, scale=0.5):
    for variable in layer.weights:
        variable.assign(rng.normal(0, scale, tuple(variable.shape)).astype("float32"))


ATTENTION_SHAPES = [
    # (score, query_dim, value_dim, units)
    ("dot", 6, 6, None),
    ("general", 6, 6, None),
    ("general", 5, 7, None),
    ("concat", 6, 6, None),
    ("concat", 5, 7, 3),
    ("bahdanau", 6, 6, None),
    ("bahdanau", 5, 7, 4),
]


@pytest.mark.parametrize("score, query_dim, value_dim, units", ATTENTION_SHAPES)
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_attention_matches_its_formula(score, query_dim, value_dim, units, masked, rng):
    layer = Attention(score, units=units)
    query = rng.normal(size=(3, query_dim)).astype("float32")
    values = rng.normal(size=(3, 5, value_dim)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], "float32")
    layer(query, values)  # build
    randomize(layer, rng)
    if score == "general":
        assert tuple(layer.w_a.shape) == (value_dim, query_dim)
    if score in ("concat", "bahdanau"):
        assert (layer.v_a if score == "concat" else layer.v).shape[0] == (units or query_dim)

    context, weights = to_numpy(layer(query, values, mask=mask if masked else None))
    expected_context, expected_weights = numpy_attention(
        layer, query, values, mask if masked else None
    )
    assert context.shape == (3, value_dim) and weights.shape == (3, 5)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, expected_context, rtol=1e-5, atol=1e-5)
    # A sensitive check: the weights are far from uniform.
    assert np.ptp(weights[0]) > 1e-2

    # Keys projected once per source give the same result.
    keys = layer.project_keys(values)
    context_k, weights_k = to_numpy(layer(query, values, keys=keys,
                                          mask=mask if masked else None))
    np.testing.assert_allclose(weights_k, weights, atol=1e-6)
    np.testing.assert_allclose(context_k, context, atol=1e-6)

    # Training writes the products as einsums, inference as batched matmuls: same values.
    context_t, weights_t = to_numpy(layer(query, values, mask=mask if masked else None,
                                          training=True))
    np.testing.assert_allclose(weights_t, weights, atol=1e-6)
    np.testing.assert_allclose(context_t, context, atol=1e-6)


@pytest.mark.parametrize("score", SCORES)
def test_attention_ignores_values_at_masked_positions(score, rng):
    layer = Attention(score)
    query = rng.normal(size=(2, 6)).astype("float32")
    values = rng.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], bool)
    layer(query, values)
    randomize(layer, rng)
    garbage = values.copy()
    garbage[~mask] = rng.normal(0, 1e3, size=garbage[~mask].shape)

    context, weights = to_numpy(layer(query, values, mask=mask))
    garbage_context, garbage_weights = to_numpy(layer(query, garbage, mask=mask))
    np.testing.assert_allclose(garbage_weights, weights, rtol=0, atol=1e-7)
    np.testing.assert_allclose(garbage_context, context, rtol=1e-6, atol=1e-6)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("score", SCORES)
def test_attention_on_an_empty_source_is_zero(score, rng):
    layer = Attention(score)
    query = rng.normal(size=(2, 4)).astype("float32")
    values = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = np.array([[0, 0, 0], [1, 1, 0]], "float32")
    context, weights = to_numpy(layer(query, values, mask=mask))
    assert np.all(weights[0] == 0.0) and np.all(context[0] == 0.0)
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(weights))
    assert weights[1].sum() == pytest.approx(1.0, abs=1e-6)


def test_dot_attention_with_mismatched_sizes_raises():
    with pytest.raises(ValueError, match="general"):
        Attention("dot")(np.ones((2, 4), "float32"), np.ones((2, 3, 6), "float32"))


@pytest.mark.parametrize("score", ["luong", "additive", "", None])
def test_unknown_attention_score_raises(score):
    with pytest.raises(ValueError, match="Unknown attention score"):
        Attention(score)


def test_attention_units_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        Attention("concat", units=0)


@pytest.mark.parametrize("score", SCORES)
def test_attention_config_round_trip(score):
    layer = Attention(score, units=3 if score in ("concat", "bahdanau") else None)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = Attention.from_config(config)
    assert clone.score == score and clone.units == layer.units


# === Encoder ===


def padded_batch(rng, lengths, width, vocab=20):
    ids = np.zeros((len(lengths), width), np.int32)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(3, vocab, length)
    return ids


def reverse_rows(ids, lengths):
    reversed_ids = ids.copy()
    for row, length in enumerate(lengths):
        reversed_ids[row, :length] = ids[row, :length][::-1]
    return reversed_ids


def twin_encoders(**kwargs):
    """Two encoders with the same weights, without and with reverse_source."""
    keras.utils.set_random_seed(0)
    plain = Encoder(vocab_size=20, embedding_dim=8, units=8, **kwargs)
    reversing = Encoder(vocab_size=20, embedding_dim=8, units=8, reverse_source=True,
                        **kwargs)
    probe = np.ones((1, 2), np.int32)
    plain(probe), reversing(probe)
    rng = np.random.default_rng(0)
    randomize(plain, rng, 0.4)
    reversing.set_weights(plain.get_weights())
    return plain, reversing


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_reverse_source_reads_backwards_and_returns_source_order(cell, bidirectional, rng):
    plain, reversing = twin_encoders(cell=cell, bidirectional=bidirectional, num_layers=2)
    lengths = [6, 4, 1]
    ids = padded_batch(rng, lengths, 7)
    manual = reverse_rows(ids, lengths)

    outputs, states = to_numpy(reversing(ids))
    manual_outputs, manual_states = to_numpy(plain(manual))
    plain_outputs, plain_states = to_numpy(plain(ids))

    assert len(states) == len(manual_states)
    for state, manual_state in zip(states, manual_states):
        np.testing.assert_allclose(state, manual_state, rtol=1e-5, atol=1e-6)
    for row, length in enumerate(lengths):
        np.testing.assert_allclose(
            outputs[row, :length], manual_outputs[row, :length][::-1], rtol=1e-5, atol=1e-6
        )
    # Reading backwards really differs from reading forwards.
    assert not np.allclose(states[0], plain_states[0], atol=1e-3)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_encoder_output_sizes(cell, num_layers, rng):
    ids = padded_batch(rng, [5, 2], 5)
    for bidirectional, size in ((False, 8), (True, 16)):
        encoder = Encoder(20, 8, 8, cell=cell, bidirectional=bidirectional,
                          num_layers=num_layers)
        outputs, states = encoder(ids)
        assert tuple(outputs.shape) == (2, 5, size)
        assert encoder.output_dim == size
        assert len(states) == num_layers * (2 if cell == "lstm" else 1)
        assert all(tuple(state.shape) == (2, size) for state in states)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_encoder_padding_changes_no_real_position(cell, bidirectional, rng):
    plain, _ = twin_encoders(cell=cell, bidirectional=bidirectional, num_layers=2)
    lengths = [5, 2, 3]
    ids = padded_batch(rng, lengths, 5)
    outputs, states = to_numpy(plain(ids))
    padded_outputs, padded_states = to_numpy(plain(np.pad(ids, ((0, 0), (0, 4)))))
    for state, padded_state in zip(states, padded_states):
        np.testing.assert_allclose(padded_state, state, rtol=1e-5, atol=1e-6)
    for row, length in enumerate(lengths):
        np.testing.assert_allclose(padded_outputs[row, :length], outputs[row, :length],
                                   rtol=1e-5, atol=1e-6)
        # Each sentence alone gives the same final states as in the padded batch.
        _, alone = to_numpy(plain(ids[row:row + 1, :length]))
        for state, state_alone in zip(states, alone):
            np.testing.assert_allclose(state[row], state_alone[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "GRU", "transformer"])
def test_encoder_rejects_unknown_cell_with_a_helpful_message(cell):
    with pytest.raises(ValueError) as info:
        Encoder(20, 8, 8, cell=cell)
    message = str(info.value)
    assert repr(cell) in message and "'gru'" in message and "'lstm'" in message


@pytest.mark.parametrize("kwargs", [dict(num_layers=0), dict(dropout=1.0), dict(dropout=-0.1)])
def test_encoder_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        Encoder(20, 8, 8, **kwargs)


def test_encoder_config_round_trip():
    encoder = Encoder(20, 8, 8, cell="lstm", bidirectional=True, num_layers=2,
                      dropout=0.1, reverse_source=True)
    config = encoder.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = Encoder.from_config(config)
    assert clone.get_config() == config


# === Bridge ===


def test_zero_bridge_gives_zeros_with_the_dynamic_batch():
    bridge = Bridge("zero", cell="lstm", units=6, num_layers=2)
    for batch in (3, 5):
        encoder_states = [np.ones((batch, 4), "float32") * 7] * 4
        state = to_numpy(bridge(encoder_states))
        assert sorted(state) == ["c0", "c1", "h0", "h1"]
        for value in state.values():
            assert value.shape == (batch, 6)
            assert np.all(value == 0.0)
    # Symbolic inputs keep the batch dynamic.
    symbolic = bridge([keras.Input((4,)) for _ in range(4)])
    assert all(tuple(v.shape) == (None, 6) for v in symbolic.values())


@pytest.mark.parametrize("cell, names", [("gru", ["h0", "h1"]),
                                         ("lstm", ["h0", "c0", "h1", "c1"])])
def test_copy_bridge_passes_states_unchanged(cell, names, rng):
    bridge = Bridge("copy", cell=cell, units=6, num_layers=2)
    encoder_states = [rng.normal(size=(3, 6)).astype("float32") for _ in names]
    state = to_numpy(bridge(encoder_states))
    assert list(state) == names
    for name, value in zip(names, encoder_states):
        np.testing.assert_array_equal(state[name], value)


@pytest.mark.parametrize(
    "states",
    [
        [np.ones((2, 8), "float32")],  # size 8, decoder wants 6
        [np.ones((2, 6), "float32")] * 3,  # 3 states, decoder wants 2
    ],
    ids=["size", "count"],
)
def test_copy_bridge_with_mismatched_states_suggests_dense(states):
    bridge = Bridge("copy", cell="gru", units=6, num_layers=2 if len(states) > 1 else 1)
    with pytest.raises(ValueError, match="dense"):
        bridge(states)


def test_dense_bridge_shapes_and_values_for_two_lstm_layers(rng):
    bridge = Bridge("dense", cell="lstm", units=5, num_layers=2)
    # A 1-layer bidirectional LSTM encoder of 4 units: h and c of size 8.
    encoder_states = [rng.normal(size=(3, 8)).astype("float32") for _ in range(2)]
    state = to_numpy(bridge(encoder_states))
    assert list(state) == ["h0", "c0", "h1", "c1"]
    assert all(value.shape == (3, 5) for value in state.values())
    kernel = np.asarray(bridge.dense.kernel)
    assert kernel.shape == (16, 20)
    randomize(bridge, rng)
    state = to_numpy(bridge(encoder_states))
    mapped = np.concatenate(encoder_states, -1) @ np.asarray(bridge.dense.kernel)
    mapped += np.asarray(bridge.dense.bias)
    for i, name in enumerate(["h0", "c0", "h1", "c1"]):
        np.testing.assert_allclose(state[name], mapped[:, 5 * i:5 * (i + 1)],
                                   rtol=1e-5, atol=1e-5)


def test_unknown_bridge_raises():
    with pytest.raises(ValueError, match="zero, copy, dense"):
        Bridge("mlp", cell="gru", units=4)


def test_bridge_config_round_trip():
    bridge = Bridge("dense", cell="lstm", units=5, num_layers=2)
    config = bridge.get_config()
    assert json.loads(json.dumps(config)) == config
    assert Bridge.from_config(config).get_config() == config


# === Decoder ===


def decoder_inputs(rng, cell="gru", num_layers=1, units=6, value_dim=7,
                   lengths=(5, 3, 1), target_length=4):
    names = [f"{k}{i}" for i in range(num_layers)
             for k in (("h", "c") if cell == "lstm" else ("h",))]
    rnn_state = {name: rng.normal(size=(len(lengths), units)).astype("float32")
                 for name in names}
    values = rng.normal(size=(len(lengths), max(lengths), value_dim)).astype("float32")
    mask = (np.arange(max(lengths))[None, :] < np.array(lengths)[:, None])
    targets = rng.integers(1, 20, size=(len(lengths), target_length)).astype("int32")
    return rnn_state, values, mask, targets


@pytest.mark.parametrize(
    "attention, placement, feeding",
    [("general", "luong", True), ("bahdanau", "bahdanau", False), ("concat", "luong", False)],
)
def test_decoder_attention_is_zero_on_padding_and_call_equals_steps(
        attention, placement, feeding, rng):
    decoder = Decoder(20, 8, 6, cell="lstm", num_layers=2, attention=attention,
                      attention_placement=placement, input_feeding=feeding)
    rnn_state, values, mask, targets = decoder_inputs(rng, cell="lstm", num_layers=2)
    state = decoder.initial_state(rnn_state)
    assert set(state) == set(rnn_state) | ({"attentional"} if feeding else set())
    decoder(targets, state, values, mask)
    randomize(decoder, rng, 0.5)

    logits, attention_weights = to_numpy(
        decoder(targets, state, values, mask, return_attention=True))
    assert logits.shape == (3, 4, 20) and attention_weights.shape == (3, 4, 5)
    assert np.all(attention_weights[~np.broadcast_to(mask[:, None, :], (3, 4, 5))] == 0.0)
    np.testing.assert_allclose(attention_weights.sum(-1), 1.0, atol=1e-5)

    # Decoder.step, one token at a time, gives the same logits and weights.
    memory = decoder.prepare_memory(values, mask)
    step_state = dict(state)
    for t in range(targets.shape[1]):
        step_logits, step_state, weights = decoder.step(targets[:, t], step_state, memory)
        np.testing.assert_allclose(np.asarray(step_logits), logits[:, t], atol=1e-5)
        np.testing.assert_allclose(np.asarray(weights), attention_weights[:, t], atol=1e-6)
        assert set(step_state) == set(state)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize(
    "placement, feeding",
    [("luong", False), ("luong", True), ("bahdanau", False)],
    ids=["luong", "luong-feeding", "bahdanau"],
)
def test_decoder_step_follows_its_placement_equations(cell, placement, feeding, rng):
    """One step wired by hand from the decoder's own sub-layers.

    Luong: the RNN runs first and its new top output queries the encoder states.
    Bahdanau: the previous top state queries them and the context joins the RNN input.
    Both: output = tanh(W_c [context; h_t]); with input feeding, that vector is the
    next `attentional` state and the previous one joins the RNN input.
    """
    decoder = Decoder(20, 8, 6, cell=cell, num_layers=2, attention="general",
                      attention_placement=placement, input_feeding=feeding)
    rnn_state, values, mask, targets = decoder_inputs(rng, cell=cell, num_layers=2)
    state = decoder.initial_state(rnn_state)
    if feeding:
        np.testing.assert_array_equal(np.asarray(state["attentional"]), 0.0)
        state["attentional"] = rng.normal(size=(3, 6)).astype("float32")
    decoder(targets, state, values, mask)
    randomize(decoder, rng, 0.5)
    memory = decoder.prepare_memory(values, mask)
    tokens = targets[:, 0]

    logits, new_state, weights = decoder.step(tokens, state, memory)
    logits, weights = np.asarray(logits), np.asarray(weights)
    new_state = {k: np.asarray(v) for k, v in new_state.items()}

    inputs = [np.asarray(decoder.embedding(tokens))]
    if feeding:
        inputs.append(state["attentional"])
    if placement == "bahdanau":
        context, expected_weights = decoder.attention_layer(state["h1"], values, mask=mask)
        inputs.append(np.asarray(context))
    x = np.concatenate(inputs, axis=-1)
    for i, rnn_cell in enumerate(decoder.cells):
        cell_state = [state[f"h{i}"]] + ([state[f"c{i}"]] if cell == "lstm" else [])
        x, cell_state = rnn_cell(x, cell_state)
        x = np.asarray(x)
        np.testing.assert_allclose(new_state[f"h{i}"], x, atol=1e-6)
        if cell == "lstm":
            np.testing.assert_allclose(new_state[f"c{i}"], np.asarray(cell_state[1]),
                                       atol=1e-6)
    if placement == "luong":
        context, expected_weights = decoder.attention_layer(x, values, mask=mask)
    np.testing.assert_allclose(weights, np.asarray(expected_weights), atol=1e-6)
    kernel = np.asarray(decoder.attentional_dense.kernel)
    attentional = np.tanh(np.concatenate([np.asarray(context), x], -1) @ kernel)
    expected_logits = attentional @ np.asarray(decoder.output_dense.kernel)
    expected_logits += np.asarray(decoder.output_dense.bias)
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-5, atol=1e-5)
    if feeding:
        np.testing.assert_allclose(new_state["attentional"], attentional, atol=1e-6)
    else:
        assert "attentional" not in new_state


def test_decoder_without_attention_refuses_return_attention(rng):
    decoder = Decoder(20, 8, 6, attention="none")
    rnn_state, _, _, targets = decoder_inputs(rng)
    logits = decoder(targets, decoder.initial_state(rnn_state))
    assert tuple(logits.shape) == (3, 4, 20)
    assert decoder.prepare_memory(None, None) == {}
    with pytest.raises(ValueError, match="attention"):
        decoder(targets, decoder.initial_state(rnn_state), return_attention=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(attention="none", input_feeding=True), "input_feeding"),
        (dict(attention="dot", attention_placement="bahdanau", input_feeding=True),
         "input_feeding"),
        (dict(attention="luong"), "Unknown attention"),
        (dict(attention_placement="before"), "attention_placement"),
        (dict(cell="rnn"), "'gru' or 'lstm'"),
        (dict(num_layers=0), "num_layers"),
        (dict(dropout=1.5), "dropout"),
    ],
)
def test_decoder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Decoder(20, 8, 6, **kwargs)


def test_decoder_config_round_trip():
    decoder = Decoder(20, 8, 6, cell="lstm", num_layers=2, attention="bahdanau",
                      attention_placement="luong", input_feeding=True, attention_units=3,
                      dropout=0.2)
    config = decoder.get_config()
    assert json.loads(json.dumps(config)) == config
    assert Decoder.from_config(config).get_config() == config
