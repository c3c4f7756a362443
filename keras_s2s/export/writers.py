"""One writer per bundle format, behind a registry.

A writer takes an `ExportJob` (the trained model, its export graphs and the options)
and the bundle directory being written, writes its format's files there, and returns
what `bundle.json` records about the format besides its file list. A new format is a
function decorated with `@writer("name")` and its file names in
`keras_s2s.runtime.bundle.FORMAT_FILES`.
"""

import dataclasses
import os
from typing import Optional

from keras_s2s.runtime.bundle import FORMAT_FILES, SHORTLIST_ROLES

STEP_ROLES = ("encoder", "decoder_step")  # what a device needs to decode
WHOLE_LOOP_ROLES = ("translate", "beam")  # greedy and beam search in one graph each

WRITERS = {}


def writer(name):
    """Registers the decorated function as the writer of format `name`."""
    def register(function):
        WRITERS[name] = function
        return function
    return register


@dataclasses.dataclass
class ExportJob:
    """What every writer needs.

    Attributes:
        trained: the `TrainedModel` (float32).
        graphs: its `ExportGraphs`.
        quantize: one of `keras_s2s.choices.QUANTIZATIONS`.
        calibration: role -> representative inputs, for `quantize="int8"`.
        whole_loop: whether to write the whole-loop graphs (`translate`, `beam`).
        shortlist: whether to write the step without its output layer
            (`decoder_features`) for TFLite and ONNX.
    """

    trained: object
    graphs: object
    quantize: str = "none"
    calibration: Optional[dict] = None
    whole_loop: bool = True
    shortlist: bool = False

    def roles(self, format_name):
        """The roles (and their files) this job writes for a format."""
        roles = {role: path for role, path in FORMAT_FILES[format_name].items()
                 if self.whole_loop or role not in WHOLE_LOOP_ROLES}
        if self.shortlist:
            roles.update(SHORTLIST_ROLES.get(format_name, {}))
        return roles


def write_format(job, name, directory):
    """Writes format `name` into `directory`; returns its `bundle.json` entry."""
    return {"files": job.roles(name), **WRITERS[name](job, directory)}


@writer("keras")
def write_keras(job, directory):
    """The architecture and weights without the optimizer state (a third of the size)."""
    model = job.trained.model
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.save(os.path.join(directory, FORMAT_FILES["keras"]["model"]))
    return {}


@writer("savedmodel")
def write_savedmodel(job, directory):
    """The SavedModel: text in, text out (`translate`), and the graphs' signatures."""
    from keras_s2s.export import savedmodel

    trained = job.trained
    savedmodel.save(job.graphs, trained.source_vocab, trained.target_vocab,
                    trained.meta["tokenizer"],
                    os.path.join(directory, FORMAT_FILES["savedmodel"]["model"]))
    return {"signatures": ["translate", "greedy", "beam", "encode", "decode_step"]}


def tflite_functions(graphs, shortlist=False):
    """Role -> `(signature key, concrete function)` of the four TFLite files (and with
    `shortlist`, of `decoder_features`). All take any batch: the roles that encode run
    the encoder's RNNs as `keras_s2s.export.tflite_encoder`'s loop."""
    functions = {
        "encoder": ("encode", graphs.batched_tflite_function("encode")),
        "decoder_step": ("decode_step", graphs.step_function()),
        "translate": ("translate", graphs.batched_tflite_function("greedy")),
        "beam": ("beam", graphs.batched_tflite_function("beam")),
    }
    if shortlist:
        functions["decoder_features"] = ("decode_features", graphs.features_function())
    return functions


def tflite_quantization(quantize, role):
    """The quantization a TFLite file gets when the bundle asks for `quantize`.

    The TFLite calibrator crashes (SIGSEGV, TF 2.21) on graphs with a WHILE loop: with
    int8, the encoder and the whole loop get int8 weights (dynamic range), decoder_step
    int8 weights and activations.
    """
    return "dynamic" if quantize == "int8" and role != "decoder_step" else quantize


@writer("tflite")
def write_tflite(job, directory, only=None, applied=None):
    """Writes the TFLite graphs, or only the roles of `only` (role -> quantization),
    and returns the format's metadata (`applied`: the quantization of the files
    written before, which `only` updates)."""
    from keras_s2s.export import tflite

    applied = dict(applied or {})
    for role, (signature, function) in tflite_functions(job.graphs, job.shortlist).items():
        if role not in job.roles("tflite") or (only is not None and role not in only):
            continue
        applied[role] = only[role] if only is not None else tflite_quantization(job.quantize, role)
        calibration = job.calibration[role] if applied[role] == "int8" else None
        model = tflite.convert(function, signature, applied[role], calibration)
        flex = sorted(op for op in tflite.op_names(model) if op.startswith("Flex"))
        if flex:
            raise RuntimeError(f"The TFLite {role} needs Flex ops {flex}; exports must use builtins only.")
        with open(os.path.join(directory, job.roles("tflite")[role]), "wb") as f:
            f.write(model)
    # None: any batch (bundles written before the batched encoder say 1, and LiteRT
    # runs their encoding graphs one row at a time).
    batch_sizes = {"encoder_batch_size": None}
    if job.whole_loop:
        batch_sizes.update(translate_batch_size=None, beam_batch_size=None)
    return {**batch_sizes, "quantization": job.quantize, "quantization_by_file": applied}


def onnx_functions(graphs, shortlist=False):
    """Role -> `(function, input signature)` of the four ONNX files (and with
    `shortlist`, of `decoder_features`). The roles that encode take the encoder's outputs
    and states as inputs: `write_onnx` joins ONNX's own RNN operators in front of them
    (`keras_s2s.export.onnx_encoder`)."""
    functions = {
        "encoder": graphs.after_encoder_rnn("encode"),
        "decoder_step": (graphs.decode_step, graphs.step_specs()),
        "translate": graphs.after_encoder_rnn("greedy"),
        "beam": graphs.after_encoder_rnn("beam"),
    }
    if shortlist:
        functions["decoder_features"] = (graphs.decode_features, graphs.step_specs())
    return functions


def onnx_model(graphs, role):
    """The checked `onnx.ModelProto` of a role: traced by tf2onnx and, for the roles that
    encode, joined to the native encoder."""
    from keras_s2s.export import onnx as onnx_export
    from keras_s2s.export.onnx_encoder import with_native_encoder

    function, signature = onnx_functions(graphs, shortlist=True)[role]
    model = onnx_export.convert(function, signature)
    if role in ("decoder_step", "decoder_features"):
        return model
    return with_native_encoder(model, graphs.encoder)


@writer("onnx")
def write_onnx(job, directory):
    """Writes the ONNX graphs; with `quantize` `"dynamic"` or `"int8"`, their weights
    become 8-bit (ONNX Runtime's dynamic quantization: activations are quantized per
    call, with one scale per tensor, so a sentence's tokens can depend on the others in
    its batch); with `"float16"` the weights are stored as float16 and cast back to
    float32 when the graph is loaded (`onnx.float16_weights`)."""
    from keras_s2s.export import onnx as onnx_export

    applied = {"dynamic": "dynamic", "int8": "dynamic", "float16": "float16"}.get(job.quantize, "none")
    for role in onnx_functions(job.graphs, job.shortlist):
        if role not in job.roles("onnx"):
            continue
        model = onnx_model(job.graphs, role)
        path = os.path.join(directory, job.roles("onnx")[role])
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        if applied == "dynamic":
            onnx_export.quantize_weights(path)
        elif applied == "float16":
            onnx_export.float16_weights(path)
    return {"opset": onnx_export.OPSET, "quantization": applied}
