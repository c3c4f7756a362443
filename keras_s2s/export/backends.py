"""The two TensorFlow backends: the Keras model itself and the bundle's SavedModel.

They offer the calls of `keras_s2s.runtime.backends` (`encode`, `step`,
`greedy_loop`), so `keras_s2s.runtime.Translator` decodes them exactly like LiteRT
and ONNX Runtime.
"""

import tensorflow as tf

from keras_s2s.decoding.step import step_inputs
from keras_s2s.export.graphs import ExportGraphs
from keras_s2s.runtime.backends import Backend, BundleBackend
from keras_s2s.runtime.contract import StepContract


class KerasBackend(Backend):
    """A `Seq2Seq` in memory: its stepwise inference model and, for `greedy_loop`,
    the export graphs' `greedy` function run by TensorFlow.

    Args:
        model: a `Seq2Seq`, or a `Bundle` (its `model.keras` is loaded).
        max_decode_length: the decoding limit (taken from the bundle when given one).
        beam_size: the beam size of `beam_loop`, the whole beam search traced as the
            bundle's beam graph (taken from the bundle when given one).
    """

    name = "keras"

    def __init__(self, model, max_decode_length=None, beam_size=4):
        if not hasattr(model, "inference"):  # a Bundle
            from keras_s2s.models.saving import load_keras_model

            max_decode_length = model.max_decode_length
            beam_size = model.meta.get("beam_size", beam_size)
            model = load_keras_model(model.file("keras", "model"))
        self.model = model
        self.inference = model.inference()
        inputs = self.inference.step_model.input
        shapes = {name: tuple(inputs[name].shape[1:])
                  for name in self.inference.state_names + self.inference.memory_names}
        super().__init__(StepContract(
            model.source_vocab_size, model.target_vocab_size,
            {name: shapes[name] for name in self.inference.state_names},
            {name: shapes[name] for name in self.inference.memory_names},
        ))
        self._max_decode_length = max_decode_length
        self._greedy = None
        self._beam = None
        self.beam_size = beam_size  # of the whole-loop beam graph

    def _run_encode(self, source_ids):
        state, memory = self.inference.encode(source_ids)
        return {**state, **memory}

    def run_step(self, token_ids, state, memory):
        return self.inference.decode_step(token_ids, state, memory)

    def run_features_step(self, token_ids, state, memory):
        return self.inference.decode_features(token_ids, state, memory)

    def _run_greedy(self, source_ids):
        if self._greedy is None:
            graphs = ExportGraphs(self.model, self._max_decode_length)
            self._greedy = tf.function(graphs.greedy, reduce_retracing=True)
        outputs = self._greedy(tf.constant(source_ids))
        return outputs["tokens"].numpy(), outputs["lengths"].numpy()

    def _run_beam(self, source_ids, length_penalty):
        if self._beam is None:
            graphs = ExportGraphs(self.model, self._max_decode_length, self.beam_size)
            self._beam = tf.function(graphs.beam, reduce_retracing=True)
        outputs = self._beam(tf.constant(source_ids), tf.constant(length_penalty))
        return {name: value.numpy() for name, value in outputs.items()}


class SavedModelBackend(BundleBackend):
    """The bundle's SavedModel, through its `encode`, `decode_step` and `greedy`
    signatures (loaded with `tf.saved_model.load`)."""

    name = "savedmodel"

    def __init__(self, bundle):
        import tensorflow_text  # noqa: F401  (registers the ops `translate` uses)

        super().__init__(bundle)
        self.loaded = tf.saved_model.load(bundle.file("savedmodel", "model"))
        self._encode = self.loaded.signatures["encode"]
        self._step = self.loaded.signatures["decode_step"]
        self._greedy = self.loaded.signatures["greedy"]
        self._beam = self.loaded.signatures.get("beam")

    def _run_encode(self, source_ids):
        outputs = self._encode(source_ids=tf.constant(source_ids))
        return {name: value.numpy() for name, value in outputs.items()}

    def run_step(self, token_ids, state, memory):
        inputs = {name: tf.constant(value)
                  for name, value in step_inputs(token_ids, state, memory).items()}
        outputs = {name: value.numpy() for name, value in self._step(**inputs).items()}
        return self._step_outputs(outputs)

    def _run_greedy(self, source_ids):
        outputs = self._greedy(source_ids=tf.constant(source_ids))
        return outputs["tokens"].numpy(), outputs["lengths"].numpy()

    def _run_beam(self, source_ids, length_penalty):
        if self._beam is None:
            from keras_s2s.runtime.bundle import BundleError

            raise BundleError(f"The SavedModel of {self.bundle.path} has no beam signature: "
                              "export the model again, or decode step by step.")
        outputs = self._beam(source_ids=tf.constant(source_ids),
                             length_penalty=tf.constant(length_penalty))
        return {name: value.numpy() for name, value in outputs.items()}
