"""The encoder's RNNs as ONNX's own `GRU` and `LSTM` operators.

tf2onnx converts a Keras RNN into a `Loop` whose body runs a dozen small ops per time
step; ONNX Runtime executes each iteration as a subgraph call, which costs more than
the arithmetic at batch 1 and computes the input projections one step at a time at
any batch. ONNX has the recurrences as operators (`GRU`, `LSTM`, with both directions
and per-row lengths), which ONNX Runtime runs with one matrix product for the input
projections of every step and packed weights for the recurrence.

So the ONNX graphs that encode (`encoder`, `translate`, `beam`) are made of two parts:

- the **native encoder**, built here from the `Encoder` layer's weights: the embedding
  (`Gather`), the stacked, optionally bidirectional `GRU`/`LSTM` operators over each
  row's real length (`sequence_lens`), and for `reverse_source` the `ReverseSequence`
  that `Encoder.call` does with `reverse_padded`; it gives what `Encoder.call` returns:
  the outputs and the flat list of final states;
- the **rest**, traced from the model's own layers by tf2onnx as before (the bridge,
  the memory, the decoding loop), taking the encoder's outputs and states as inputs
  (`ExportGraphs.after_encoder_rnn`);

and `with_native_encoder` joins them into one graph with the same inputs and outputs
as the graph traced whole, so nothing else (bundle, runtime, contract) changes.

The gates map one to one (Keras 3 defaults, which `Encoder` uses): a Keras GRU with
`reset_after=True` is ONNX's `GRU` with `linear_before_reset=1`, both with the gates in
`z, r, h` order and separate input and recurrent biases; a Keras LSTM's `i, f, c, o`
gates are ONNX's `i, o, f, c`, with one bias (ONNX's recurrent bias is zero). A padded
position of a forward (unidirectional) RNN's outputs repeats the last real output, as
Keras's masked RNN does; bidirectional outputs are zero there, as in Keras.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from keras_s2s.decoding.step import SOURCE_IDS
from keras_s2s.export.rnn_cells import check_default_cells, direction_layers

# The names joining the two parts: the encoder's outputs and its final states.
RNN_OUTPUTS = "encoder_rnn_outputs"


def rnn_state_name(index):
    """The joining name of the `index`-th final state of `Encoder.call`."""
    return f"encoder_rnn_state_{index}"


_PREFIX = "native_encoder/"


class _GraphBuilder:
    """Nodes and initializers under one name prefix."""

    def __init__(self):
        self.nodes, self.initializers = [], []

    def constant(self, name, value):
        self.initializers.append(numpy_helper.from_array(np.asarray(value), _PREFIX + name))
        return _PREFIX + name

    def node(self, op, inputs, outputs, **attributes):
        """Adds a node; `outputs` are names without the prefix, or exact names given as
        `("exact", name)`. Returns the output names."""
        names = [o[1] if isinstance(o, tuple) else _PREFIX + o for o in outputs]
        self.nodes.append(helper.make_node(op, inputs, names, name=_PREFIX + op + "/" + names[0],
                                           **attributes))
        return names


def _gru_weights(cell):
    kernel, recurrent, bias = (np.asarray(w.numpy(), np.float32)
                               for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    if bias.ndim != 2:
        raise ValueError("The native ONNX encoder needs GRUs with reset_after=True (Keras's "
                         "default), whose bias holds the input and the recurrent part.")
    return kernel.T, recurrent.T, np.concatenate([bias[0], bias[1]])


def _lstm_weights(cell, units):
    def iofc(matrix):  # Keras's i, f, c, o gate blocks -> ONNX's i, o, f, c
        i, f, c, o = (matrix[..., k * units:(k + 1) * units] for k in range(4))
        return np.concatenate([i, o, f, c], axis=-1)

    kernel, recurrent, bias = (np.asarray(w.numpy(), np.float32)
                               for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    return iofc(kernel).T, iofc(recurrent).T, np.concatenate([iofc(bias), np.zeros_like(bias)])


def native_encoder_graph(encoder):
    """`source_ids (batch, src_len) int32` -> `encoder_rnn_outputs (batch, src_len, dim)`
    and `encoder_rnn_state_<i> (batch, dim)`: `Encoder.call` in ONNX operators, as an
    `onnx.GraphProto` (opset 14 or later)."""
    check_default_cells(encoder, "The native ONNX encoder")
    g = _GraphBuilder()
    ids = SOURCE_IDS
    [mask] = g.node("Not", g.node("Equal", [ids, g.constant("zero", np.int32(0))], ["padding"]),
                    ["mask"])
    [lengths] = g.node("ReduceSum", [g.node("Cast", [mask], ["mask_int32"], to=TensorProto.INT32)[0],
                                     g.constant("time_axis", np.array([1], np.int64))],
                       ["lengths"], keepdims=0)
    lengths64 = None
    if encoder.reverse_source:
        [lengths64] = g.node("Cast", [lengths], ["lengths_int64"], to=TensorProto.INT64)
        [ids] = g.node("ReverseSequence", [ids, lengths64], ["reversed_ids"],
                       batch_axis=0, time_axis=1)
    embeddings = np.asarray(encoder.embedding.embeddings.numpy(), np.float32)
    [x] = g.node("Gather", [g.constant("embedding", embeddings), ids], ["embedded"])
    [x] = g.node("Transpose", [x], ["embedded_time_major"], perm=[1, 0, 2])  # (src, batch, emb)

    op = "GRU" if encoder.cell == "gru" else "LSTM"
    directions = 2 if encoder.bidirectional else 1
    states, last_h = [], None
    for i, rnn in enumerate(encoder.rnns):
        layers = direction_layers(encoder, rnn)
        weights = [_gru_weights(layer.cell) if op == "GRU"
                   else _lstm_weights(layer.cell, encoder.units) for layer in layers]
        w, r, b = (g.constant(f"layer_{i}/{name}", np.stack([part[k] for part in weights]))
                   for k, name in enumerate(("W", "R", "B")))
        outputs = [f"layer_{i}/y", f"layer_{i}/y_h"] + ([f"layer_{i}/y_c"] if op == "LSTM" else [])
        attributes = {"linear_before_reset": 1} if op == "GRU" else {}
        y, *finals = g.node(op, [x, w, r, b, lengths], outputs, hidden_size=encoder.units,
                            direction="bidirectional" if directions == 2 else "forward",
                            **attributes)
        # y (src, directions, batch, units) -> (src, batch, directions * units)
        [y] = g.node("Transpose", [y], [f"layer_{i}/y_by_row"], perm=[0, 2, 1, 3])
        [x] = g.node("Reshape", [y, g.constant(f"layer_{i}/merge", np.array([0, 0, -1], np.int64))],
                     [f"layer_{i}/outputs"])
        for final, kind in zip(finals, ("h", "c")):
            # (directions, batch, units) -> (batch, directions * units): forward then backward
            [final] = g.node("Transpose", [final], [f"layer_{i}/{kind}_by_row"], perm=[1, 0, 2])
            exact = ("exact", rnn_state_name(len(states)))
            [final] = g.node("Reshape", [final, g.constant(f"layer_{i}/{kind}_merge",
                                                           np.array([0, -1], np.int64))], [exact])
            states.append(final)
            if kind == "h":
                last_h = final
    if encoder.reverse_source:
        [x] = g.node("ReverseSequence", [x, lengths64], ["outputs_in_source_order"],
                     batch_axis=1, time_axis=0)
    [x] = g.node("Transpose", [x], ["outputs_by_row"], perm=[1, 0, 2])  # (batch, src, dim)
    if directions == 1:
        # Keras's masked forward RNN repeats its last real output over the padding.
        [x] = g.node("Where", [g.node("Unsqueeze", [mask, g.constant("feature_axis",
                                                                     np.array([2], np.int64))],
                                      ["mask_3d"])[0],
                               x,
                               g.node("Unsqueeze", [last_h, g.constant("time_axis_1",
                                                                       np.array([1], np.int64))],
                                      ["last_output"])[0]],
                     [("exact", RNN_OUTPUTS)])
    else:
        [x] = g.node("Identity", [x], [("exact", RNN_OUTPUTS)])
    dim = encoder.output_dim
    return helper.make_graph(
        g.nodes, "native_encoder",
        [helper.make_tensor_value_info(SOURCE_IDS, TensorProto.INT32, ["batch", "source_length"])],
        [helper.make_tensor_value_info(RNN_OUTPUTS, TensorProto.FLOAT, ["batch", "source_length", dim])]
        + [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", dim]) for name in states],
        g.initializers,
    )


def with_native_encoder(rest, encoder):
    """Joins the native encoder of `encoder` to `rest`, an `onnx.ModelProto` traced from
    `ExportGraphs.after_encoder_rnn` (inputs: `source_ids`, the encoder's outputs and
    states, and any others), into one checked model whose inputs are `source_ids` and
    those others, and whose outputs are `rest`'s."""
    native = native_encoder_graph(encoder)
    joined = {output.name for output in native.output}
    graph = rest.graph
    missing = joined - {i.name for i in graph.input}
    if missing:
        raise ValueError(f"The traced graph does not take the encoder's {sorted(missing)}.")
    inputs = [i for i in graph.input if i.name not in joined and i.name != SOURCE_IDS]
    merged = helper.make_graph(
        list(native.node) + list(graph.node), graph.name,
        list(native.input) + inputs, list(graph.output),
        list(native.initializer) + list(graph.initializer),
        value_info=list(graph.value_info),
    )
    model = helper.make_model(merged, opset_imports=list(rest.opset_import),
                              producer_name=rest.producer_name,
                              producer_version=rest.producer_version)
    model.ir_version = rest.ir_version
    onnx.checker.check_model(model, full_check=True)
    return model
