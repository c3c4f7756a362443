"""Backends that run a bundle's graphs with LiteRT or ONNX Runtime (no TensorFlow).

Every backend offers the same three calls, on numpy arrays:

- `encode(source_ids)`: `(batch, src_len)` int32, 0-padded -> `(state, memory)` dicts;
- `step(token_ids, state, memory)`: one decoder step -> `(logits, new_state, attention)`
  (the step function `keras_s2s.decoding` drives);
- `greedy_loop(source_ids)` -> `(tokens, lengths)`: the whole greedy loop in one call.

The whole-loop graph is loaded on the first `greedy_loop` call: decoding step by step
(beam search, sampling, attention) never needs it, and it is as large as the other two.
"""

import functools

import numpy as np


def _import(module, package):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"This backend needs the `{package}` package: `pip install {package}`."
        ) from None


def _row_lengths(source_ids):
    return (source_ids != 0).sum(axis=1)


def _pad_to(value, length):
    """Pads axis 1 of a `(1, n, ...)` array with zeros to `length`."""
    extra = length - value.shape[1]
    if extra == 0:
        return value
    return np.pad(value, [(0, 0), (0, extra)] + [(0, 0)] * (value.ndim - 2))


class Backend:
    """What the LiteRT and ONNX Runtime backends share: the names of the step contract."""

    name = None

    def __init__(self, bundle):
        self.bundle = bundle
        self.state_names = bundle.state_names
        self.memory_names = bundle.memory_names

    def _split(self, outputs):
        state = {name: outputs[name] for name in self.state_names}
        memory = {name: outputs[name] for name in self.memory_names}
        return state, memory

    def _step_inputs(self, token_ids, state, memory):
        inputs = {"token_ids": np.asarray(token_ids, dtype=np.int32)}
        for name in self.state_names:
            inputs[name] = np.asarray(state[name], dtype=np.float32)
        for name in self.memory_names:
            inputs[name] = np.asarray(memory[name], dtype=np.float32)
        return inputs

    def _step_outputs(self, outputs):
        new_state = {name: outputs[f"next_{name}"] for name in self.state_names}
        return outputs["logits"], new_state, outputs.get("attention")


class LiteRTBackend(Backend):
    """TFLite files of a bundle on the LiteRT interpreter (`ai_edge_litert`).

    The encoder and the whole-loop graph were converted for batch 1 (the encoder's RNN
    loop needs static shapes in TFLite), so a batch is encoded row by row, each row at
    its own length, and the memory padded; `decoder_step` runs the batch at once.

    Args:
        bundle: a `Bundle`.
        num_threads: CPU threads for each interpreter (default: LiteRT's choice).
    """

    name = "tflite"

    def __init__(self, bundle, num_threads=None):
        super().__init__(bundle)
        self._litert = _import("ai_edge_litert.interpreter", "ai-edge-litert")
        self._num_threads = num_threads
        # XNNPACK (LiteRT's default CPU delegate) sometimes decodes a graph with a WHILE
        # loop wrongly after its input shape changed between calls (ai-edge-litert 2.3:
        # about a third of fresh interpreters in tests/test_export.py); the encoder and the
        # whole loop run on the builtin kernels, the step graph on XNNPACK.
        self._encode = self._runner("encoder", "encode", xnnpack=False)
        self._step = self._runner("decoder_step", "decode_step")

    def _runner(self, role, signature, xnnpack=True):
        options = {}
        if not xnnpack:
            options["experimental_op_resolver_type"] = (
                self._litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter = self._litert.Interpreter(
            model_path=self.bundle.file("tflite", role), num_threads=self._num_threads,
            **options)
        return interpreter.get_signature_runner(signature)

    @functools.cached_property
    def _loop(self):
        return self._runner("translate", "translate", xnnpack=False)

    def encode(self, source_ids):
        source_ids = np.asarray(source_ids, dtype=np.int32)
        rows = [self._encode(source_ids=row[None, :n]) for row, n in
                zip(source_ids, _row_lengths(source_ids))]
        width = source_ids.shape[1]
        # Memory tensors have a source axis: pad each row's to the batch's width.
        outputs = {
            name: np.concatenate(
                [_pad_to(r[name], width) if name in self.memory_names else r[name] for r in rows]
            )
            for name in rows[0]
        }
        return self._split(outputs)

    def step(self, token_ids, state, memory):
        return self._step_outputs(self._step(**self._step_inputs(token_ids, state, memory)))

    def greedy_loop(self, source_ids):
        source_ids = np.asarray(source_ids, dtype=np.int32)
        results = [self._loop(source_ids=row[None, :n]) for row, n in
                   zip(source_ids, _row_lengths(source_ids))]
        return (np.concatenate([r["tokens"] for r in results]),
                np.concatenate([r["lengths"] for r in results]))


class OnnxBackend(Backend):
    """ONNX files of a bundle on ONNX Runtime (dynamic batch throughout).

    Args:
        bundle: a `Bundle`.
        num_threads: intra-op threads of each session (default: ONNX Runtime's choice).
        providers: ONNX Runtime execution providers (default: CPU).
    """

    name = "onnx"

    def __init__(self, bundle, num_threads=None, providers=("CPUExecutionProvider",)):
        super().__init__(bundle)
        self._ort = _import("onnxruntime", "onnxruntime")
        self._options = self._ort.SessionOptions()
        if num_threads:
            self._options.intra_op_num_threads = num_threads
        self._providers = list(providers)
        self._encode = self._session("encoder")
        self._step = self._session("decoder_step")

    def _session(self, role):
        return self._ort.InferenceSession(
            self.bundle.file("onnx", role), sess_options=self._options,
            providers=self._providers)

    @functools.cached_property
    def _loop(self):
        return self._session("translate")

    @staticmethod
    def _run(session, inputs):
        names = [output.name for output in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))

    def encode(self, source_ids):
        outputs = self._run(self._encode, {"source_ids": np.asarray(source_ids, dtype=np.int32)})
        return self._split(outputs)

    def step(self, token_ids, state, memory):
        outputs = self._run(self._step, self._step_inputs(token_ids, state, memory))
        return self._step_outputs(outputs)

    def greedy_loop(self, source_ids):
        outputs = self._run(self._loop, {"source_ids": np.asarray(source_ids, dtype=np.int32)})
        return outputs["tokens"], outputs["lengths"]
