"""Mixed precision: every layer follows its dtype policy (as keras-hub's precision tests
check), the numerically sensitive parts stay float32, and the policy survives a config
round trip and a `.keras` file."""

import keras
import numpy as np
import pytest

from conftest import END_ID, START_ID, build_seq2seq, make_sources, make_targets
from keras_s2s.layers import Attention, Bridge, Decoder, Encoder
from keras_s2s.models import Seq2Seq

pytestmark = pytest.mark.every_backend  # and on JAX: scripts/test.sh

# Not the pure "bfloat16" and "float16" policies: the recurrent kernels' orthogonal
# initializer has no QR decomposition in those dtypes (TensorFlow lacks bfloat16, JAX on
# CPU both), which fails in Keras itself before any keras_s2s code runs.
POLICIES = ["float32", "mixed_bfloat16", "mixed_float16"]


def sublayers(layer):
    """Every layer under `layer` (itself included), Bidirectional's halves too; not the
    functional model's inputs (integer ids)."""
    return [sub for sub in [layer, *layer._flatten_layers(include_self=False, recursive=True)]
            if not isinstance(sub, keras.layers.InputLayer)]


def assert_follows(layer, policy):
    policy = keras.dtype_policies.get(policy)
    for sub in sublayers(layer):
        assert sub.dtype_policy.name == policy.name, f"{sub.name}: {sub.dtype_policy.name}"
    for variable in layer.weights:
        assert variable.dtype == policy.variable_dtype, variable.path


def built_layers(policy, rng):
    """Each layer, called once on tiny inputs, with what it returned."""
    encoder = Encoder(20, 8, 8, bidirectional=True, num_layers=2, dtype=policy)
    outputs, states = encoder(make_sources((4, 2)))
    bridge = Bridge("dense", units=8, dtype=policy)
    bridged = bridge(states)
    attention = Attention("bahdanau", dtype=policy)
    context, weights = attention(rng.normal(size=(2, 8)).astype("float32"), outputs,
                                 mask=make_sources((4, 2)) != 0)
    decoder = Decoder(20, 8, 8, attention="concat", input_feeding=True, dtype=policy)
    logits = decoder(make_targets(2, 3), decoder.initial_state(bridged), outputs,
                     make_sources((4, 2)) != 0)
    return {"encoder": (encoder, outputs), "bridge": (bridge, bridged["h0"]),
            "attention": (attention, (context, weights)), "decoder": (decoder, logits)}


@pytest.mark.parametrize("policy", POLICIES)
def test_every_layer_computes_in_its_policy(policy, rng):
    compute = keras.dtype_policies.get(policy).compute_dtype
    layers = built_layers(policy, rng)
    for name, (layer, _) in layers.items():
        assert_follows(layer, policy)
        restored = type(layer).from_config(layer.get_config())
        assert restored.dtype_policy.name == policy, name
    assert keras.backend.standardize_dtype(layers["encoder"][1].dtype) == compute
    assert keras.backend.standardize_dtype(layers["bridge"][1].dtype) == compute
    context, weights = layers["attention"][1]
    assert keras.backend.standardize_dtype(context.dtype) == compute
    # The softmax ran in float32: the weights still sum to one at float32 precision
    # (bfloat16 arithmetic would be off by up to 1e-2) before their cast.
    np.testing.assert_allclose(np.asarray(weights, "float32").sum(-1), 1.0, atol=1e-2)
    # The logits leave the decoder in float32 whatever the compute dtype.
    assert keras.backend.standardize_dtype(layers["decoder"][1].dtype) == "float32"


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_the_model_keeps_its_policy_through_config_and_file(policy, tmp_path):
    model = build_seq2seq(attention="general", bidirectional=True, dtype=policy)
    assert_follows(model, policy)
    assert model.get_config()["dtype"]["config"]["name"] == policy
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert_follows(loaded, policy)
    inputs = {"source_ids": make_sources((4, 2)), "target_ids": make_targets(2, 3)}
    np.testing.assert_array_equal(np.asarray(loaded(inputs)), np.asarray(model(inputs)))


def test_a_global_mixed_policy_reaches_every_layer():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_seq2seq(weight_scale=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert_follows(model, "mixed_bfloat16")


def test_mixed_bfloat16_trains_on_cpu_and_exports_as_float32():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    sources = rng.integers(3, 12, size=(256, 5)).astype("int32")
    labels = np.concatenate([sources[:, ::-1], np.full((256, 1), END_ID, "int32")], axis=1)
    targets = np.concatenate([np.full((256, 1), START_ID, "int32"), labels[:, :-1]], axis=1)
    model = Seq2Seq(12, 12, embedding_dim=16, units=32, attention="dot",
                    dtype="mixed_bfloat16")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit({"source_ids": sources, "target_ids": targets}, labels,
                        batch_size=32, epochs=6, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["masked_accuracy"][-1] > 0.6

    exported = model.with_dtype("float32")
    assert_follows(exported, "float32")
    assert model.with_dtype("mixed_bfloat16") is model
    for mixed, full in zip(model.weights, exported.weights):
        np.testing.assert_array_equal(np.asarray(mixed), np.asarray(full))
    # The float32 copy decodes what the mixed model learnt.
    hypotheses = exported.inference().greedy(sources[:32], start_id=START_ID, end_id=END_ID,
                                             max_length=8)
    hits = [np.mean([a == b for a, b in zip(h.tokens, s[::-1])])
            for h, s in zip(hypotheses, sources[:32])]
    assert np.mean(hits) > 0.5
