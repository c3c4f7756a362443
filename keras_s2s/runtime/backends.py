"""Backends that run a bundle's graphs with LiteRT or ONNX Runtime (no TensorFlow).

Every backend offers the same three calls, on numpy arrays:

- `encode(source_ids)`: `(batch, src_len)` int32, 0-padded -> `(state, memory)` dicts;
- `step(token_ids, state, memory)`: one decoder step -> `(logits, new_state, attention)`
  (the step function `keras_s2s.decoding` drives);
- `greedy_loop(source_ids)` -> `(tokens, lengths)`: the whole greedy loop in one call;
- `beam_loop(source_ids, length_penalty)` -> the dict of the beam graph's outputs
  (`tokens`, `lengths`, `scores`, `ranking_scores`, `finished`, `count`): the whole
  beam search in one call, at the beam size the bundle was exported with.

Each call checks its arrays against the bundle's step contract first
(`keras_s2s.runtime.contract`): a wrong shape, dtype, name or token id is a
`ValueError` that says what was expected, on every backend alike.

The whole-loop graphs are loaded on the first `greedy_loop` or `beam_loop` call:
decoding step by step (beam search, sampling, attention) never needs them, and each is
as large as the other two.
"""

import functools

import numpy as np

from keras_s2s.decoding.step import FEATURES, SOURCE_IDS, split_step_outputs, step_inputs
from keras_s2s.runtime.contract import StepContract
from keras_s2s.runtime.threads import check_threads
from keras_s2s.utils.native_logs import quiet_stderr


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
    """What every backend shares: the step contract, checked on the way in.

    `encode`, `step` and `greedy_loop` check their arrays against the bundle's
    `StepContract` (a clear `ValueError` instead of a failure inside the runtime), then
    call the subclass's `_run_encode`, `run_step` and `_run_greedy`. `run_step` is the
    step without the check, for loops whose arrays all come from `encode` and earlier
    steps (the `Translator`'s): on a small model the check costs as much as the step.

    Args:
        contract: the model's `StepContract`.
    """

    name = None

    def __init__(self, contract):
        self.contract = contract
        self.state_names = contract.state_names
        self.memory_names = contract.memory_names

    def encode(self, source_ids):
        """`(batch, src_len)` ids, 0-padded -> `(state, memory)` dicts."""
        outputs = self._run_encode(self.contract.check_source_ids(source_ids))
        state = {name: outputs[name] for name in self.state_names}
        memory = {name: outputs[name] for name in self.memory_names}
        return state, memory

    def step(self, token_ids, state, memory):
        """One decoder step -> `(logits, new_state, attention or None)`."""
        return self.run_step(*self.contract.check_step_inputs(token_ids, state, memory))

    def greedy_loop(self, source_ids):
        """The whole greedy loop in one call -> `(tokens, lengths)`."""
        return self._run_greedy(self.contract.check_source_ids(source_ids))

    def beam_loop(self, source_ids, length_penalty=0.0):
        """The whole beam search in one call -> dict of `(batch, beam, ...)` arrays."""
        if not (isinstance(length_penalty, (int, float, np.number)) and length_penalty >= 0
                and np.isfinite(length_penalty)):
            raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}.")
        return self._run_beam(self.contract.check_source_ids(source_ids),
                              np.float32(length_penalty))

    def run_features_step(self, token_ids, state, memory):
        """One decoder step without its output layer -> `(features, new_state,
        attention or None)`, for decoding with a vocabulary shortlist
        (`keras_s2s.decoding.shortlist`); unchecked, as `run_step`."""
        raise ValueError(f"The {self.name} backend does not decode with a vocabulary "
                         "shortlist: use tflite, onnx or keras.")

    def _step_outputs(self, outputs):
        """A step graph's named outputs -> `(logits, new_state, attention)`."""
        return split_step_outputs(outputs, self.state_names)

    def _features_outputs(self, outputs):
        return split_step_outputs(outputs, self.state_names, first=FEATURES)


class BundleBackend(Backend):
    """A backend that runs a bundle's graphs: its contract is the one in `bundle.json`."""

    def __init__(self, bundle):
        super().__init__(StepContract.from_bundle_meta(bundle.meta))
        self.bundle = bundle
        # The beam graph's beam size (None: a bundle exported before it existed).
        self.beam_size = bundle.meta.get("beam_size")


def _load_error(path, runtime, error):
    from keras_s2s.runtime.bundle import BundleError

    return BundleError(
        f"{path} cannot be loaded by {runtime} ({type(error).__name__}: {error}). The file "
        "is damaged or not what bundle.json says: export the model again."
    )


class LiteRTBackend(BundleBackend):
    """TFLite files of a bundle on the LiteRT interpreter (`ai_edge_litert`).

    Every graph runs a batch at once. Bundles exported before the batched TFLite
    encoder (`keras_s2s.export.tflite_encoder`; their `bundle.json` says
    `encoder_batch_size: 1`) have encoding graphs converted for batch 1: those are run
    row by row, each row at its own length, and the memory padded.

    Args:
        bundle: a `Bundle`.
        num_threads: CPU threads for each interpreter (default: the cores this process
            may use, at most 4; 0: the runtime's own default; `keras_s2s.runtime.threads`).
        xnnpack_loops: run the graphs with a loop (`BUILTIN_KERNEL_ROLES`) on XNNPACK
            too. Opt-in: 3x to 4x faster on the tutorial-size model with identical
            outputs in `benchmarks/results/xnnpack_loops_speed.md`, but off by default
            for the one wrong score seen (below). `kernels` says what each graph runs on.
    """

    name = "tflite"
    # XNNPACK (LiteRT's default CPU delegate) sometimes computes a graph with a WHILE
    # loop wrongly after its input shape changed between calls (ai-edge-litert 2.3:
    # about a third of fresh interpreters with Keras's RNN loop; with the batched
    # encoder's loop, once, in the beam graph of tests/export/test_export.py): the graphs
    # with a loop run on the builtin kernels, the others on XNNPACK
    # (`benchmarks/xnnpack_loops.py` measures both sides of this choice).
    BUILTIN_KERNEL_ROLES = ("encoder", "translate", "beam")

    def __init__(self, bundle, num_threads=None, xnnpack_loops=False):
        super().__init__(bundle)
        self._litert = _import("ai_edge_litert.interpreter", "ai-edge-litert")
        self.num_threads = check_threads(num_threads)
        if not isinstance(xnnpack_loops, bool):
            raise ValueError(f"xnnpack_loops must be True or False, got {xnnpack_loops!r}.")
        self.xnnpack_loops = xnnpack_loops
        # What each graph loaded so far runs on: "xnnpack" or "builtin" (kernels).
        self.kernels = {}
        # Whether the encoding graphs take any batch (None) or one row (1).
        self._row_by_row = bundle.meta["formats"]["tflite"].get("encoder_batch_size", 1) == 1
        if xnnpack_loops and self._row_by_row:
            raise ValueError(
                "xnnpack_loops needs a bundle whose TFLite graphs take a batch; this one's "
                "loops are Keras's own RNN loop, which XNNPACK often computes wrongly: "
                "export the model again (keras-s2s export) or leave out xnnpack_loops.")
        self._encoder = self._runner("encoder", "encode")
        self._decoder_step = self._runner("decoder_step", "decode_step")

    def _runner(self, role, signature):
        options = {}
        builtin = role in self.BUILTIN_KERNEL_ROLES and not self.xnnpack_loops
        if builtin:
            options["experimental_op_resolver_type"] = (
                self._litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        path = self.bundle.file("tflite", role)
        try:
            # LiteRT announces its XNNPACK delegate on stderr when it applies it, on the
            # first allocation: do that here, with the notice filtered out.
            with quiet_stderr():
                interpreter = self._litert.Interpreter(
                    model_path=path, num_threads=self.num_threads or None, **options)
                interpreter.allocate_tensors()
            runner = interpreter.get_signature_runner(signature)
        except (ValueError, RuntimeError) as e:
            raise _load_error(path, "LiteRT", e) from None
        self.kernels[role] = "builtin" if builtin else "xnnpack"
        return runner

    @functools.cached_property
    def _loop(self):
        return self._runner("translate", "translate")

    @functools.cached_property
    def _beam(self):
        return self._runner("beam", "beam")

    def _run_encode(self, source_ids):
        if not self._row_by_row:
            return self._encoder(source_ids=source_ids)
        rows = [self._encoder(source_ids=row[None, :n]) for row, n in
                zip(source_ids, _row_lengths(source_ids))]
        width = source_ids.shape[1]
        # Memory tensors have a source axis: pad each row's to the batch's width.
        return {
            name: np.concatenate(
                [_pad_to(r[name], width) if name in self.memory_names else r[name] for r in rows]
            )
            for name in rows[0]
        }

    def run_step(self, token_ids, state, memory):
        return self._step_outputs(self._decoder_step(**step_inputs(token_ids, state, memory)))

    @functools.cached_property
    def _decoder_features(self):
        return self._runner("decoder_features", "decode_features")

    def run_features_step(self, token_ids, state, memory):
        return self._features_outputs(
            self._decoder_features(**step_inputs(token_ids, state, memory)))

    def _run_greedy(self, source_ids):
        if not self._row_by_row:
            result = self._loop(source_ids=source_ids)
            return result["tokens"], result["lengths"]
        results = [self._loop(source_ids=row[None, :n]) for row, n in
                   zip(source_ids, _row_lengths(source_ids))]
        return (np.concatenate([r["tokens"] for r in results]),
                np.concatenate([r["lengths"] for r in results]))

    def _run_beam(self, source_ids, length_penalty):
        if not self._row_by_row:
            return self._beam(source_ids=source_ids, length_penalty=length_penalty)
        results = [self._beam(source_ids=row[None, :n], length_penalty=length_penalty)
                   for row, n in zip(source_ids, _row_lengths(source_ids))]
        return {name: np.concatenate([r[name] for r in results]) for name in results[0]}


class OnnxBackend(BundleBackend):
    """ONNX files of a bundle on ONNX Runtime (dynamic batch throughout).

    Args:
        bundle: a `Bundle`.
        num_threads: intra-op threads of each session (default: the cores this process
            may use, at most 4; 0: the runtime's own default; `keras_s2s.runtime.threads`).
        spinning: whether the pool's threads spin-wait for work. By default, with
            several threads, the graphs called once per batch (`translate`, `beam`:
            the whole search is inside one `run()`, `LOOP_ROLES`) spin, so that each of
            the loop's ops finds the threads awake; the graphs the Python decoding loop
            calls (`encoder`, `decoder_step`) do not, since between two of their calls
            that loop works in Python on the same cores and spinning threads take them
            from it (`benchmarks/threads.py`). `True` or `False` sets every graph alike
            (`True` suits a server whose cores are the session's alone).
        providers: ONNX Runtime execution providers (default: CPU).
    """

    name = "onnx"
    # The graphs whose sessions spin by default (see `spinning`).
    LOOP_ROLES = ("translate", "beam")

    def __init__(self, bundle, num_threads=None, spinning=None,
                 providers=("CPUExecutionProvider",)):
        super().__init__(bundle)
        self._ort = _import("onnxruntime", "onnxruntime")
        self.num_threads = check_threads(num_threads)
        self._spinning = spinning
        self._providers = list(providers)
        self._encoder = self._session("encoder")
        self._decoder_step = self._session("decoder_step")

    def session_options(self, role):
        """The `onnxruntime.SessionOptions` of the graph `role` (threads, spinning)."""
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        spinning = self._spinning
        if spinning is None and self.num_threads > 1:
            spinning = role in self.LOOP_ROLES
        if spinning is not None:
            options.add_session_config_entry(
                "session.intra_op.allow_spinning", "1" if spinning else "0")
        return options

    def _session(self, role):
        path = self.bundle.file("onnx", role)
        try:
            return self._ort.InferenceSession(
                path, sess_options=self.session_options(role), providers=self._providers)
        except Exception as e:  # onnxruntime's errors share no base class but Exception
            raise _load_error(path, "ONNX Runtime", e) from None

    @functools.cached_property
    def _loop(self):
        return self._session("translate")

    @functools.cached_property
    def _beam(self):
        return self._session("beam")

    @staticmethod
    def _run(session, inputs):
        names = [output.name for output in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))

    def _run_encode(self, source_ids):
        return self._run(self._encoder, {SOURCE_IDS: source_ids})

    def run_step(self, token_ids, state, memory):
        return self._step_outputs(
            self._run(self._decoder_step, step_inputs(token_ids, state, memory)))

    @functools.cached_property
    def _decoder_features(self):
        return self._session("decoder_features")

    def run_features_step(self, token_ids, state, memory):
        return self._features_outputs(
            self._run(self._decoder_features, step_inputs(token_ids, state, memory)))

    def _run_greedy(self, source_ids):
        outputs = self._run(self._loop, {SOURCE_IDS: source_ids})
        return outputs["tokens"], outputs["lengths"]

    def _run_beam(self, source_ids, length_penalty):
        return self._run(self._beam, {SOURCE_IDS: source_ids,
                                      "length_penalty": np.asarray(length_penalty, np.float32)})
