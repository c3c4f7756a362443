"""Tests of the training model, the stepwise inference model, the loss and the metric."""

import json

import keras
import numpy as np
import pytest

from keras_s2s.decoding import log_softmax
from keras_s2s.layers.attention import SCORES
from keras_s2s.models import MaskedAccuracy, MaskedSparseCrossentropy, Seq2Seq

from architecture_grid import EXTRAS, GRID, Variant, covering_subset

# Source lengths of the test batch: full, padded, a single token, padded again.
LENGTHS = (6, 3, 1, 4)
TARGET_LENGTH = 5
EXTRA_PAD = 3


# === The architecture grid ===

SAVE_LOAD = covering_subset(GRID) + EXTRAS


def test_grid_is_complete_and_sensible():
    assert len(GRID) == len(set(GRID))
    # 2 cells x 2 directions x 2 depths x (1 without attention + 4 scores x 3 setups).
    assert len(GRID) == 2 * 2 * 2 * (1 + len(SCORES) * 3)
    assert len({str(v) for v in GRID + EXTRAS}) == len(GRID) + len(EXTRAS)
    subset_factors = {(v.cell, v.bidirectional, v.layers) for v in covering_subset(GRID)}
    assert {cell for cell, _, _ in subset_factors} == {"gru", "lstm"}
    assert {bi for _, bi, _ in subset_factors} == {False, True}
    assert {layers for _, _, layers in subset_factors} == {1, 2}


class Built:
    """One variant's model and inference model, and lazily computed results on the
    reference batch, shared by the tests of this module (each variant is built once)."""

    def __init__(self, variant, s2s):
        self.variant, self.s2s = variant, s2s
        self.model = s2s.build(**variant.kwargs())
        self.inference = self.model.inference()
        self.sources = s2s.sources(LENGTHS)
        self.targets = s2s.targets(len(LENGTHS), TARGET_LENGTH)
        self._results = {}

    def _lazy(self, key, compute):
        if key not in self._results:
            self._results[key] = compute()
        return self._results[key]

    def training_logits(self):
        return self._lazy("training_logits", lambda: self.s2s.training_logits(
            self.model, self.sources, self.targets))

    def stepwise(self):
        """Stepwise `(logits, attention)` of the inference model on the reference batch."""
        return self._lazy("stepwise", lambda: self.s2s.stepwise(
            self.inference, self.sources, self.targets))


def training_attention(model, sources, targets):
    """Logits and attention of the training path (Decoder.call with return_attention)."""
    outputs, encoder_states = model.encoder(sources)
    state = model.decoder.initial_state(model.bridge(encoder_states))
    logits, attention = model.decoder(
        targets, state, outputs, sources != 0, return_attention=True
    )
    return np.asarray(logits), np.asarray(attention)


@pytest.fixture(scope="module")
def model_cache():
    return {}


@pytest.fixture
def built(model_cache, s2s):
    """`built(variant) -> Built`, building each variant once per module."""

    def get(variant):
        if variant not in model_cache:
            model_cache[variant] = Built(variant, s2s)
        return model_cache[variant]

    return get


# === Principle 1: one decoder step ===


@pytest.mark.every_backend
@pytest.mark.parametrize("variant", GRID + EXTRAS, ids=str)
def test_stepwise_inference_reproduces_training_logits(variant, built):
    b = built(variant)
    expected = b.training_logits()
    logits, attention = b.stepwise()

    assert expected.shape == (len(LENGTHS), TARGET_LENGTH, b.s2s.VOCAB)
    assert logits.shape == expected.shape
    # The comparison means something only if the logits are not all alike.
    assert np.std(expected) > 1e-2
    assert np.max(np.abs(logits - expected)) <= 1e-5
    assert (attention is None) == (variant.attention == "none")


@pytest.mark.parametrize("variant", GRID + EXTRAS, ids=str)
def test_source_padding_changes_nothing(variant, built):
    b = built(variant)
    padded = np.pad(b.sources, ((0, 0), (0, EXTRA_PAD)))
    np.testing.assert_allclose(
        b.s2s.training_logits(b.model, padded, b.targets),
        b.training_logits(),
        rtol=0, atol=1e-5,
    )
    _, step_attention = b.stepwise()
    if variant.attention == "none":
        assert step_attention is None
        with pytest.raises(ValueError, match="attention"):
            training_attention(b.model, b.sources, b.targets)
        return

    width = b.sources.shape[1]
    _, attention = training_attention(b.model, b.sources, b.targets)
    _, padded_attention = training_attention(b.model, padded, b.targets)
    assert attention.shape == (len(LENGTHS), TARGET_LENGTH, width)
    assert padded_attention.shape == (len(LENGTHS), TARGET_LENGTH, width + EXTRA_PAD)
    # Extra padding changes no weight and gets exactly zero weight.
    np.testing.assert_allclose(padded_attention[..., :width], attention, rtol=0, atol=1e-6)
    assert np.all(padded_attention[..., width:] == 0.0)
    # The inference model attends exactly like the training model.
    np.testing.assert_allclose(step_attention, attention, rtol=0, atol=1e-6)
    for row, length in enumerate(LENGTHS):
        assert np.all(attention[row, :, length:] == 0.0)
        assert np.all(step_attention[row, :, length:] == 0.0)
        np.testing.assert_allclose(attention[row].sum(-1), 1.0, atol=1e-5)
    # The weights of a full source are not uniform, so a misplaced weight would show.
    full = attention[LENGTHS.index(max(LENGTHS))]
    assert np.ptp(full, axis=-1).min() > 1e-3


@pytest.mark.parametrize("variant", GRID + EXTRAS, ids=str)
def test_config_is_plain_json(variant, built):
    model = built(variant).model
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config
    for layer in (model.encoder, model.bridge, model.decoder):
        layer_config = layer.get_config()
        assert json.loads(json.dumps(layer_config)) == layer_config


# === Principle 4: serializable by construction ===


@pytest.mark.every_backend
@pytest.mark.parametrize("variant", SAVE_LOAD, ids=str)
def test_keras_file_round_trip(variant, built, tmp_path):
    b = built(variant)
    path = tmp_path / "model.keras"
    b.model.save(path)
    loaded = keras.saving.load_model(path)

    assert isinstance(loaded, Seq2Seq)
    assert loaded.get_config() == b.model.get_config()
    assert {id(w) for w in loaded.weights}.isdisjoint({id(w) for w in b.model.weights})
    np.testing.assert_allclose(
        b.s2s.training_logits(loaded, b.sources, b.targets),
        b.training_logits(),
        rtol=0, atol=1e-6,
    )


def test_loaded_model_decodes_like_the_original(s2s, tmp_path):
    model = s2s.build(cell="lstm", bidirectional=True, attention="bahdanau",
                      attention_placement="bahdanau", encoder_layers=2, decoder_layers=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    sources = s2s.sources(LENGTHS)
    kwargs = dict(start_id=s2s.START_ID, end_id=s2s.END_ID, max_length=6)
    expected = model.inference().beam(sources, beam_size=3, n_best=3, **kwargs)
    actual = loaded.inference().beam(sources, beam_size=3, n_best=3, **kwargs)
    for expected_hyps, actual_hyps in zip(expected, actual):
        assert [h.tokens for h in actual_hyps] == [h.tokens for h in expected_hyps]
        np.testing.assert_allclose([h.score for h in actual_hyps],
                                   [h.score for h in expected_hyps], atol=1e-5)


@pytest.mark.parametrize("variant", SAVE_LOAD[:4], ids=str)
def test_from_config_builds_the_same_architecture(variant, built):
    model = built(variant).model
    clone = Seq2Seq.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape) for w in model.weights]
    assert [w.path for w in clone.weights] == [w.path for w in model.weights]


# === The inference model shares the training model's weights ===


@pytest.mark.every_backend
@pytest.mark.parametrize(
    "variant",
    [
        Variant("gru", False, "none", "luong", False, 1),
        Variant("lstm", True, "general", "luong", True, 2),
        Variant("gru", True, "bahdanau", "bahdanau", False, 2),
    ],
    ids=str,
)
def test_inference_shares_weights_with_training_model(variant, s2s):
    model = s2s.build(**variant.kwargs())
    inference = model.inference()
    model_ids = {id(w) for w in model.weights}
    step_ids = {id(w) for w in inference.step_model.weights}
    encode_ids = {id(w) for w in inference.encoder_model.weights}

    assert step_ids and step_ids <= model_ids
    assert encode_ids and encode_ids <= model_ids
    assert step_ids == {id(w) for w in model.decoder.weights}
    # Encoder + bridge (+ attention keys) must be in the encode model.
    assert {id(w) for w in model.encoder.weights + model.bridge.weights} <= encode_ids

    sources = s2s.sources(LENGTHS)
    tokens = np.full(len(LENGTHS), s2s.START_ID, dtype=np.int32)
    state, memory = inference.encode(sources)
    logits, _, _ = inference.decode_step(tokens, state, memory)

    # Changing a training-model weight changes the step outputs (by exactly that much).
    bias = model.decoder.output_dense.bias
    delta = np.zeros(s2s.VOCAB, dtype=np.float32)
    delta[5] = 3.0
    bias.assign(np.asarray(bias) + delta)
    shifted, _, _ = inference.decode_step(tokens, state, memory)
    np.testing.assert_allclose(shifted - logits, np.broadcast_to(delta, logits.shape),
                               atol=1e-5)

    # ... and an encoder weight changes what encode() returns.
    embeddings = model.encoder.embedding.embeddings
    embeddings.assign(np.asarray(embeddings) * 2.0)
    new_state, new_memory = inference.encode(sources)
    changed = [not np.allclose(new_state[k], state[k]) for k in state]
    changed += [not np.allclose(new_memory[k], memory[k]) for k in memory
                if k != "source_mask"]
    assert any(changed)


@pytest.mark.every_backend
def test_decode_step_keeps_no_hidden_state(s2s):
    model = s2s.build(cell="lstm", attention="concat", input_feeding=True)
    inference = model.inference()
    sources = s2s.sources(LENGTHS)
    tokens = np.arange(len(LENGTHS), dtype=np.int32) + s2s.FIRST_TOKEN
    state, memory = inference.encode(sources)
    first = inference.decode_step(tokens, state, memory)
    inference.decode_step(tokens + 1, first[1], memory)  # something in between
    again = inference.decode_step(tokens, state, memory)
    np.testing.assert_array_equal(first[0], again[0])
    for name in first[1]:
        np.testing.assert_array_equal(first[1][name], again[1][name])
    np.testing.assert_array_equal(first[2], again[2])
    assert set(state) == {"h0", "c0", "attentional"}
    assert set(memory) == {"encoder_outputs", "attention_keys", "source_mask"}


# === Decoding with the inference model ===


@pytest.mark.every_backend
@pytest.mark.parametrize(
    "variant",
    [
        Variant("gru", False, "none", "luong", False, 1),
        Variant("lstm", True, "dot", "luong", True, 2),
        Variant("gru", False, "bahdanau", "bahdanau", False, 1),
    ],
    ids=str,
)
def test_greedy_agrees_with_training_model(variant, s2s):
    """Teacher-forcing the greedy output gives back the greedy tokens as arg-maxes."""
    model = s2s.build(**variant.kwargs())
    inference = model.inference()
    sources = s2s.sources(LENGTHS)
    max_length = 7
    hypotheses = inference.greedy(sources, start_id=s2s.START_ID, end_id=s2s.END_ID,
                                  max_length=max_length)
    assert len(hypotheses) == len(LENGTHS)
    for row, hypothesis in enumerate(hypotheses):
        generated = hypothesis.tokens + ([s2s.END_ID] if hypothesis.finished else [])
        assert len(generated) == (len(hypothesis.tokens) + 1 if hypothesis.finished
                                  else max_length)
        targets = np.array([[s2s.START_ID] + generated[:-1]], dtype=np.int32)
        logits = s2s.training_logits(model, sources[row:row + 1], targets)[0]
        assert logits.argmax(-1).tolist() == generated
        log_probs = log_softmax(logits)
        expected_score = log_probs[np.arange(len(generated)), generated].sum()
        assert hypothesis.score == pytest.approx(expected_score, abs=1e-4)
        if variant.attention == "none":
            assert hypothesis.attention is None
        else:
            assert hypothesis.attention.shape == (len(hypothesis.tokens), sources.shape[1])
            assert np.all(hypothesis.attention[:, LENGTHS[row]:] == 0.0)

    # Decoding the batch equals decoding each source alone.
    for row, hypothesis in enumerate(hypotheses):
        [alone] = inference.greedy(sources[row:row + 1, :LENGTHS[row]],
                                   start_id=s2s.START_ID, end_id=s2s.END_ID,
                                   max_length=max_length)
        assert alone.tokens == hypothesis.tokens
        assert alone.score == pytest.approx(hypothesis.score, abs=1e-4)


@pytest.mark.every_backend
def test_beam_on_the_inference_model(s2s):
    """Beam of one is greedy; every beam hypothesis is scored like teacher forcing."""
    model = s2s.build(cell="lstm", attention="general", decoder_layers=2,
                      encoder_layers=2, weight_scale=0.6)
    inference = model.inference()
    sources = s2s.sources(LENGTHS)
    kwargs = dict(start_id=s2s.START_ID, end_id=s2s.END_ID, max_length=6)
    greedy = inference.greedy(sources, **kwargs)
    beam1 = inference.beam(sources, beam_size=1, **kwargs)
    beam4 = inference.beam(sources, beam_size=4, n_best=4, length_penalty=0.6, **kwargs)
    for row, (g, [b1], b4) in enumerate(zip(greedy, beam1, beam4)):
        assert b1.tokens == g.tokens and b1.finished == g.finished
        assert b1.score == pytest.approx(g.score, abs=1e-6)
        assert len(b4) == 4
        ranking = [h.ranking_score for h in b4]
        assert ranking == sorted(ranking, reverse=True)
        for h in b4:
            generated = h.tokens + ([s2s.END_ID] if h.finished else [])
            targets = np.array([[s2s.START_ID] + generated[:-1]], dtype=np.int32)
            logits = s2s.training_logits(model, sources[row:row + 1], targets)[0]
            log_probs = log_softmax(logits)[np.arange(len(generated)), generated]
            assert h.score == pytest.approx(log_probs.sum(), abs=1e-4)
            assert h.attention.shape == (len(h.tokens), sources.shape[1])
            assert np.all(h.attention[:, LENGTHS[row]:] == 0.0)


def test_sampling_on_the_inference_model_is_reproducible(s2s):
    model = s2s.build(attention="dot", weight_scale=0.3)
    inference = model.inference()
    sources = s2s.sources(LENGTHS)
    kwargs = dict(start_id=s2s.START_ID, end_id=s2s.END_ID, max_length=6)
    first = inference.sample(sources, seed=3, **kwargs)
    again = inference.sample(sources, seed=3, **kwargs)
    assert [h.tokens for h in first] == [h.tokens for h in again]
    greedy = inference.greedy(sources, **kwargs)
    top1 = inference.sample(sources, seed=5, top_k=1, **kwargs)
    assert [h.tokens for h in top1] == [h.tokens for h in greedy]


def test_an_all_padding_source_gives_finite_outputs(s2s):
    model = s2s.build(cell="lstm", bidirectional=True, attention="bahdanau",
                      attention_placement="bahdanau")
    sources = s2s.sources(LENGTHS)
    sources[1] = 0
    targets = s2s.targets(len(LENGTHS), TARGET_LENGTH)
    logits = s2s.training_logits(model, sources, targets)
    assert np.all(np.isfinite(logits))
    _, attention = training_attention(model, sources, targets)
    assert np.all(attention[1] == 0.0)
    step_logits, step_attention = s2s.stepwise(model.inference(), sources, targets)
    assert np.max(np.abs(step_logits - logits)) <= 1e-5
    assert np.all(step_attention[1] == 0.0)


# === Constructor errors ===


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(attention="none", input_feeding=True), "input_feeding"),
        (dict(attention="dot", attention_placement="bahdanau", input_feeding=True),
         "input_feeding"),
        (dict(bridge="copy", decoder_units=5), "dense"),
        (dict(bridge="copy", encoder_layers=2, decoder_layers=1), "dense"),
        (dict(attention="dot", decoder_units=5), "general"),
        (dict(attention="luong"), "Unknown attention"),
        (dict(attention_placement="middle"), "attention_placement"),
        (dict(bridge="mlp"), "Unknown bridge"),
        (dict(cell="rnn"), "gru"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match, s2s):
    with pytest.raises(ValueError, match=match):
        s2s.build(weight_scale=0, **kwargs)


# === Loss and metric ===


def numpy_masked_crossentropy(labels, logits, pad_id=0):
    log_probs = log_softmax(logits)
    token_loss = -np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
    mask = labels != pad_id
    return token_loss[mask].mean()


def padded_labels(rng, batch, length, vocab):
    labels = rng.integers(1, vocab, size=(batch, length))
    lengths = rng.integers(1, length + 1, size=batch)
    labels[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return labels.astype(np.int32)


@pytest.mark.every_backend
def test_masked_crossentropy_is_the_mean_over_real_tokens(rng):
    labels = padded_labels(rng, 5, 7, 11)
    assert (labels == 0).any() and (labels != 0).any()
    logits = rng.normal(size=(5, 7, 11)).astype(np.float32) * 3
    loss = float(MaskedSparseCrossentropy()(labels, logits))
    assert loss == pytest.approx(numpy_masked_crossentropy(labels, logits), rel=1e-5)
    # Not the plain mean over all positions.
    all_positions = -np.take_along_axis(log_softmax(logits), labels[..., None], -1).mean()
    assert abs(loss - all_positions) > 1e-3


def test_masked_crossentropy_ignores_added_padding(rng):
    labels = padded_labels(rng, 4, 6, 9)
    logits = rng.normal(size=(4, 6, 9)).astype(np.float32)
    more_labels = np.pad(labels, ((0, 2), (0, 3)))  # padded rows and columns
    more_logits = rng.normal(size=(6, 9, 9)).astype(np.float32) * 5
    more_logits[:4, :6] = logits
    loss = MaskedSparseCrossentropy()
    assert float(loss(more_labels, more_logits)) == pytest.approx(
        float(loss(labels, logits)), rel=1e-6)


def test_masked_crossentropy_label_smoothing_and_pad_id(rng):
    labels = padded_labels(rng, 3, 5, 7)
    labels[labels == 0] = 6  # pad with 6 instead
    logits = rng.normal(size=(3, 5, 7)).astype(np.float32)
    smoothing = 0.2
    loss = float(MaskedSparseCrossentropy(pad_id=6, label_smoothing=smoothing)(labels, logits))
    one_hot = np.eye(7)[labels] * (1 - smoothing) + smoothing / 7
    token_loss = -(one_hot * log_softmax(logits)).sum(-1)
    assert loss == pytest.approx(token_loss[labels != 6].mean(), rel=1e-5)


@pytest.mark.every_backend
def test_masked_accuracy_ignores_padding(rng):
    labels = padded_labels(rng, 6, 5, 8)
    logits = rng.normal(size=(6, 5, 8)).astype(np.float32)
    # Pad positions predict token 0 (a "hit" for a plain accuracy) in half the batch.
    logits[:3, :, 0] += 100.0 * (labels[:3] == 0)
    metric = MaskedAccuracy()
    metric.update_state(labels[:3], logits[:3])
    metric.update_state(labels[3:], logits[3:])
    hits = logits.argmax(-1) == labels
    mask = labels != 0
    expected = hits[mask].sum() / mask.sum()
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


@pytest.mark.every_backend
def test_compile_defaults_are_padding_aware_and_training_learns(s2s):
    model = s2s.build(attention="general", weight_scale=0)
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    assert isinstance(model.loss, MaskedSparseCrossentropy)

    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 6, size=16)
    sources = np.zeros((16, 6), dtype=np.int32)
    for row, length in enumerate(lengths):
        sources[row, :length] = rng.integers(s2s.FIRST_TOKEN, s2s.VOCAB, size=length)
    # Copy task: labels are the source then the end token, decoder inputs shifted right.
    labels = np.zeros((16, 7), dtype=np.int32)
    labels[:, :6] = sources
    labels[np.arange(16), lengths] = s2s.END_ID
    inputs = np.concatenate([np.full((16, 1), s2s.START_ID), labels[:, :-1]], 1)
    x = {"source_ids": sources, "target_ids": inputs.astype(np.int32)}

    results = model.evaluate(x, labels, batch_size=16, verbose=0, return_dict=True)
    logits = s2s.training_logits(model, sources, x["target_ids"])
    assert results["loss"] == pytest.approx(numpy_masked_crossentropy(labels, logits),
                                            rel=1e-4)
    mask = labels != 0
    expected_accuracy = (logits.argmax(-1) == labels)[mask].mean()
    assert results["masked_accuracy"] == pytest.approx(expected_accuracy, abs=1e-6)

    history = model.fit(x, labels, batch_size=16, epochs=25, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]


def test_compiled_model_round_trips_with_its_loss_and_metric(s2s, tmp_path):
    model = s2s.build(attention="concat")
    model.compile()
    sources = s2s.sources(LENGTHS)
    targets = s2s.targets(len(LENGTHS), TARGET_LENGTH)
    labels = np.concatenate([targets[:, 1:], np.full((len(LENGTHS), 1), s2s.END_ID)], 1)
    labels[2, 2:] = 0  # a padded target
    x = {"source_ids": sources, "target_ids": targets}
    model.fit(x, labels, epochs=1, verbose=0)
    path = tmp_path / "compiled.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, MaskedSparseCrossentropy)
    expected = model.evaluate(x, labels, verbose=0, return_dict=True)
    actual = loaded.evaluate(x, labels, verbose=0, return_dict=True)
    assert set(actual) == {"loss", "masked_accuracy"}
    for name in expected:
        assert actual[name] == pytest.approx(expected[name], abs=1e-6)


# === Scheduled sampling (teacher_forcing < 1) ===


def free_running_logits(inference, sources, steps, start_id):
    """Stepwise logits when each step is fed the previous step's arg-max."""
    state, memory = inference.encode(sources)
    tokens = np.full(len(sources), start_id, dtype=np.int32)
    logits = []
    for _ in range(steps):
        step_logits, state, _ = inference.decode_step(tokens, state, memory)
        logits.append(step_logits)
        tokens = step_logits.argmax(-1).astype(np.int32)
    return np.stack(logits, axis=1)


@pytest.mark.every_backend
@pytest.mark.parametrize("attention", ["none", "general"])
def test_no_teacher_forcing_trains_on_the_models_own_predictions(attention, s2s):
    """teacher_forcing=0: after the start token, every training step is fed the arg-max
    of the previous step, i.e. the training logits are greedy free-running decoding."""
    model = s2s.build(attention=attention, teacher_forcing=0.0)
    sources = s2s.sources(LENGTHS)
    targets = s2s.targets(len(LENGTHS), TARGET_LENGTH)
    trained = np.asarray(model({"source_ids": sources, "target_ids": targets},
                               training=True))
    expected = free_running_logits(model.inference(), sources, TARGET_LENGTH, s2s.START_ID)
    # The first step is fed the start token, like at inference.
    assert np.max(np.abs(trained[:, 0] - expected[:, 0])) <= 1e-5
    assert np.max(np.abs(trained - expected)) <= 1e-5
    # Outside training the gold prefix is used as always.
    np.testing.assert_allclose(s2s.training_logits(model, sources, targets),
                               s2s.stepwise(model.inference(), sources, targets)[0],
                               atol=1e-5)


def test_full_teacher_forcing_ignores_the_training_flag(s2s):
    model = s2s.build(attention="dot", teacher_forcing=1.0)
    sources = s2s.sources(LENGTHS)
    targets = s2s.targets(len(LENGTHS), TARGET_LENGTH)
    inputs = {"source_ids": sources, "target_ids": targets}
    np.testing.assert_array_equal(np.asarray(model(inputs, training=True)),
                                  np.asarray(model(inputs, training=False)))


@pytest.mark.parametrize("teacher_forcing", [-0.1, 1.5])
def test_teacher_forcing_must_be_a_share(teacher_forcing, s2s):
    with pytest.raises(ValueError, match="teacher_forcing"):
        s2s.build(teacher_forcing=teacher_forcing, weight_scale=0)
