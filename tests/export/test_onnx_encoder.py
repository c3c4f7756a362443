"""The native ONNX encoder (`keras_s2s.export.onnx_encoder`): ONNX's GRU and LSTM
operators compute what `Encoder.call` computes, padding and source reversal included,
and the graphs that encode use them instead of a traced loop."""

import itertools

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import build_seq2seq, make_sources

from keras_s2s.export import onnx_model
from keras_s2s.export.graphs import ExportGraphs
from keras_s2s.export.onnx_encoder import (
    RNN_OUTPUTS,
    native_encoder_graph,
    rnn_state_name,
)

# Rows of every kind: full, padded, a single token, and no token at all.
LENGTHS = [7, 3, 1, 0, 5]


def run_native(encoder, sources):
    graph = native_encoder_graph(encoder)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"source_ids": sources})))


@pytest.mark.parametrize("cell,bidirectional,layers,reverse_source", list(itertools.product(
    ("gru", "lstm"), (False, True), (1, 2), (False, True))))
def test_native_encoder_computes_what_the_keras_encoder_computes(
        cell, bidirectional, layers, reverse_source):
    model = build_seq2seq(cell=cell, bidirectional=bidirectional, encoder_layers=layers,
                          reverse_source=reverse_source)
    sources = make_sources(LENGTHS, width=8, seed=3)
    outputs, states = model.encoder(sources)
    native = run_native(model.encoder, sources)
    # Every position, padding included (a forward RNN repeats its last output there).
    np.testing.assert_allclose(native[RNN_OUTPUTS], np.asarray(outputs), atol=1e-5)
    assert len(native) == 1 + len(states)
    for i, state in enumerate(states):
        np.testing.assert_allclose(native[rnn_state_name(i)], np.asarray(state), atol=1e-5)


def test_the_graphs_that_encode_use_the_rnn_operators_not_a_loop():
    model = build_seq2seq(cell="lstm", bidirectional=True, encoder_layers=2)
    graphs = ExportGraphs(model, max_decode_length=6)
    encoder = onnx_model(graphs, "encoder")
    ops = [node.op_type for node in encoder.graph.node]
    assert ops.count("LSTM") == 2 and "Loop" not in ops
    # The joined graph keeps the step contract's inputs and outputs.
    assert [i.name for i in encoder.graph.input] == ["source_ids"]
    assert sorted(o.name for o in encoder.graph.output) == sorted(
        graphs.state_names + graphs.memory_names)
    beam = onnx_model(graphs, "beam")
    assert [i.name for i in beam.graph.input] == ["source_ids", "length_penalty"]
    assert [n.op_type for n in beam.graph.node].count("LSTM") == 2


def test_cells_it_cannot_map_are_refused():
    import keras

    model = build_seq2seq(cell="gru")
    model.encoder.rnns[0].cell.activation = keras.activations.relu
    with pytest.raises(ValueError, match="default RNN cells"):
        native_encoder_graph(model.encoder)
