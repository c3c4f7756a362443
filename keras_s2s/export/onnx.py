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


def quantize_weights(path):
    """Rewrites the ONNX file at `path` with int8 weights (ONNX Runtime's dynamic
    quantization: MatMul, Gather and the recurrent weights; activations are quantized per
    call), checked with `onnx.checker`. About a quarter of the float32 size."""
    import logging
    import os
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    directory = os.path.dirname(os.path.abspath(path))
    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory(dir=directory) as work:
        quantized = os.path.join(work, "quantized.onnx")
        # The quantizer logs advice on the root logger (pre-processing; tensors whose
        # type it cannot infer, which it leaves as they are): known, and checked below.
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(path, quantized, weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        onnx.checker.check_model(onnx.load(quantized), full_check=True)
        os.replace(quantized, path)
