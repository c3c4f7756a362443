"""ONNX conversion with tf2onnx, at a pinned opset, checked with `onnx.checker`."""

import onnx
import tensorflow as tf

OPSET = 17


def _rename_outputs(model, names):
    """Gives the graph outputs the names of the function's output dict."""
    graph = model.graph
    renames = {output.name: name for output, name in zip(graph.output, names)}
    for node in graph.node:
        node.output[:] = [renames.get(n, n) for n in node.output]
        node.input[:] = [renames.get(n, n) for n in node.input]
    for output in graph.output:
        output.name = renames[output.name]


def convert(function, input_signature):
    """A Python function of tensors (returning a dict) -> a checked `onnx.ModelProto`.

    Inputs are named after the `tf.TensorSpec` names; outputs after the dict keys.
    """
    import tf2onnx  # heavy; only the ONNX export needs it

    concrete = tf.function(function).get_concrete_function(*input_signature)
    output_names = sorted(concrete.structured_outputs)  # the order tf.nest flattens a dict
    model, _ = tf2onnx.convert.from_function(
        tf.function(function), input_signature=input_signature, opset=OPSET
    )
    _rename_outputs(model, output_names)
    onnx.checker.check_model(model, full_check=True)
    return model
