"""Decode exported bundles on a device: numpy plus LiteRT or ONNX Runtime, no TensorFlow.

    import keras_s2s.runtime as runtime
    translator = runtime.load("export/dates", backend="tflite")
    translator.translate(["Nov. 23rd, 2026"])        # ['2026-11-23']

`load()` also accepts `backend="savedmodel"` or `"keras"`; those two import TensorFlow
(from `keras_s2s.export.backends`) and serve to check that every backend agrees.
"""

import importlib

from keras_s2s.runtime.bundle import FORMAT_VERSION, Bundle, BundleError
from keras_s2s.runtime.translator import SourceTruncatedWarning, Translator

# Backend name -> "module:class"; imported only when asked for.
BACKENDS = {
    "keras": "keras_s2s.export.backends:KerasBackend",
    "savedmodel": "keras_s2s.export.backends:SavedModelBackend",
    "tflite": "keras_s2s.runtime.backends:LiteRTBackend",
    "onnx": "keras_s2s.runtime.backends:OnnxBackend",
}


def backend_class(name):
    """The backend class registered under `name`."""
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}: choose one of {', '.join(BACKENDS)}.")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def load(path, backend="tflite", verify=True, **options):
    """A `Translator` for the bundle at `path`, running on `backend`.

    Args:
        path: a bundle directory written by `keras-s2s export`; a copy holding only
            `bundle.json`, the vocabularies and the backend's own files will do.
        backend: `"tflite"`, `"onnx"`, `"savedmodel"` or `"keras"`.
        verify: check the sha256 of the files the backend uses first.
        **options: backend options (`num_threads` for tflite and onnx).
    """
    cls = backend_class(backend)
    bundle = Bundle(path, verify=verify, formats=[backend])
    return Translator(
        cls(bundle, **options), bundle.source_tokenizer(), bundle.target_tokenizer(),
        bundle.max_decode_length, meta=bundle.meta,
        max_source_length=bundle.meta.get("max_source_length"),
    )


__all__ = ["BACKENDS", "FORMAT_VERSION", "Bundle", "BundleError", "SourceTruncatedWarning",
           "Translator", "backend_class", "load"]
