"""The batched TFLite encoder (`keras_s2s.export.tflite_encoder`): its loop computes what
`Encoder.call` computes, padding and source reversal included, in TensorFlow and once
converted, and the TFLite graphs that encode take any batch."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from conftest import build_seq2seq, make_sources

from keras_s2s.export import tflite, tflite_functions
from keras_s2s.export.graphs import ExportGraphs
from keras_s2s.export.tflite_encoder import encoder_rnn

# Rows of every kind: full, padded, a single token, and no token at all.
LENGTHS = [7, 3, 1, 0, 5]


def converted_encoder_rnn(encoder):
    """`encoder_rnn` as a TFLite signature runner (outputs `outputs`, `state_<i>`)."""

    def function(source_ids):
        outputs, states = encoder_rnn(encoder, source_ids)
        return {"outputs": outputs, **{f"state_{i}": s for i, s in enumerate(states)}}

    concrete = tf.function(function).get_concrete_function(
        tf.TensorSpec([None, None], tf.int32, name="source_ids"))
    interpreter = Interpreter(model_content=tflite.convert(concrete, "encode"))
    return interpreter.get_signature_runner("encode")


def assert_matches(found, outputs, states):
    """`found` (outputs, then states) equals the Keras encoder's, every position."""
    np.testing.assert_allclose(found[0], np.asarray(outputs), atol=1e-5)
    assert len(found) == 1 + len(states)
    for got, state in zip(found[1:], states):
        np.testing.assert_allclose(got, np.asarray(state), atol=1e-5)


@pytest.mark.parametrize("cell,bidirectional,layers,reverse_source", list(itertools.product(
    ("gru", "lstm"), (False, True), (1, 2), (False, True))))
def test_batched_encoder_computes_what_the_keras_encoder_computes(
        cell, bidirectional, layers, reverse_source):
    model = build_seq2seq(cell=cell, bidirectional=bidirectional, encoder_layers=layers,
                          reverse_source=reverse_source)
    sources = make_sources(LENGTHS, width=8, seed=3)
    outputs, states = model.encoder(sources)
    # Padding included: a forward RNN repeats its last output there, a bidirectional
    # one gives zeros.
    x, found_states = encoder_rnn(model.encoder, tf.constant(sources))
    assert_matches([x.numpy()] + [s.numpy() for s in found_states], outputs, states)

    runner = converted_encoder_rnn(model.encoder)
    found = runner(source_ids=sources)
    assert_matches([found["outputs"]] + [found[f"state_{i}"] for i in range(len(states))],
                   outputs, states)
    # The same interpreter, another batch and source length.
    smaller = sources[1:3, :4]
    outputs, states = model.encoder(smaller)
    found = runner(source_ids=smaller)
    assert_matches([found["outputs"]] + [found[f"state_{i}"] for i in range(len(states))],
                   outputs, states)


def test_the_tflite_graphs_that_encode_take_any_batch():
    model = build_seq2seq(cell="gru", bidirectional=True)
    graphs = ExportGraphs(model, max_decode_length=6, beam_size=2)
    functions = tflite_functions(graphs)
    for role in ("encoder", "translate", "beam"):
        signature, function = functions[role]
        source = next(t for t in function.inputs if t.name.startswith("source_ids"))
        assert source.shape.as_list() == [None, None], role
        ops = tflite.op_names(tflite.convert(function, signature))
        # The loop writes its outputs in place: no TensorList (static shapes only).
        assert "DYNAMIC_UPDATE_SLICE" in ops and not any("TensorList" in op for op in ops)


def test_cells_it_cannot_map_are_refused():
    import keras

    model = build_seq2seq(cell="gru")
    model.encoder.rnns[0].cell.activation = keras.activations.relu
    with pytest.raises(ValueError, match="default RNN cells"):
        encoder_rnn(model.encoder, tf.constant(make_sources([2], width=3, seed=0)))
