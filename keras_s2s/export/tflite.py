"""TFLite conversion: builtin ops only, variables frozen, optional quantization.

The Keras GRU / LSTM layers of the encoder run as a `WHILE` op whose body reads the
weights. Converting from a SavedModel that keeps them as variables leaves `READ_VARIABLE`
ops in that body, which fail at invoke; so each function is first frozen (variables
become constants, control flow kept functional), written as a SavedModel with one named
signature, and converted from there. Keras's RNN loop also keeps its outputs in a
TensorList, which TFLite needs with static shapes: the graphs that encode replace it with
`keras_s2s.export.tflite_encoder`'s loop, so every graph keeps a dynamic batch.
"""

import os
import tempfile
import warnings

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2_as_graph,
)

from keras_s2s.choices import QUANTIZATIONS
from keras_s2s.utils.native_logs import quiet_stderr



def _frozen_saved_model(concrete_function, signature_key, path):
    """Writes `concrete_function` with its variables frozen as a one-signature SavedModel."""
    frozen, graph_def = convert_variables_to_constants_v2_as_graph(
        concrete_function, lower_control_flow=False
    )
    input_names = [t.name.split(":")[0] for t in frozen.inputs]
    output_names = sorted(concrete_function.structured_outputs)  # tf.nest's dict order
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
        inputs = {n: graph.get_tensor_by_name(t.name) for n, t in zip(input_names, frozen.inputs)}
        outputs = {n: graph.get_tensor_by_name(t.name) for n, t in zip(output_names, frozen.outputs)}
        signature = tf.compat.v1.saved_model.predict_signature_def(inputs, outputs)
        with tf.compat.v1.Session(graph=graph) as session:
            builder = tf.compat.v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.SERVING], signature_def_map={signature_key: signature}
            )
            builder.save()


def convert(concrete_function, signature_key, quantize="none", representative_inputs=None):
    """A `tf.function`'s concrete function -> TFLite flatbuffer bytes.

    Args:
        concrete_function: the function (its inputs' names become the signature's).
        signature_key: the name of the TFLite signature.
        quantize: `"none"`, `"dynamic"` (int8 weights), `"float16"` (float16 weights) or
            `"int8"` (int8 weights and activations, calibrated on
            `representative_inputs`; inputs and outputs stay float / int32).
        representative_inputs: for `"int8"`, a list of dicts of numpy arrays, one per
            calibration call, keyed by input name.
    """
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantize!r}: use one of {', '.join(QUANTIZATIONS)}.")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "frozen")
        _frozen_saved_model(concrete_function, signature_key, path)
        converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=[signature_key])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            if not representative_inputs:
                raise ValueError("int8 quantization needs representative inputs (calibration data).")

            def representative_dataset():
                for inputs in representative_inputs:
                    yield {name: np.asarray(value) for name, value in inputs.items()}

            converter.representative_dataset = representative_dataset
        # The int8 calibrator runs tf.lite.Interpreter, which warns that it is deprecated,
        # and prints its settings from C++: neither is news to the user.
        with warnings.catch_warnings(), quiet_stderr():
            warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
            return converter.convert()


def op_names(model_bytes):
    """The operators a TFLite model uses, in every subgraph (loop bodies included).

    Builtin operators by name (`"FULLY_CONNECTED"`, `"WHILE"`, ...); custom operators
    (Flex / Select TF ops among them) by their custom code (`"FlexTensorListReserve"`).
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.python import schema_util

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAsModel(bytearray(model_bytes), 0)
    found = set()
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for o in range(subgraph.OperatorsLength()):
            code = model.OperatorCodes(subgraph.Operators(o).OpcodeIndex())
            builtin = schema_util.get_builtin_code_from_operator_code(code)
            if builtin == schema.BuiltinOperator.CUSTOM:
                found.add(code.CustomCode().decode("utf-8"))
            else:
                found.add(names[builtin])
    return found
