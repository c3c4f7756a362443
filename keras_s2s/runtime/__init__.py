"""Decode exported bundles on a device: numpy plus LiteRT or ONNX Runtime, no TensorFlow.

    import keras_s2s.runtime as runtime
    translator = runtime.load("export/dates", backend="tflite")
    translator.translate(["Nov. 23rd, 2026"])        # ['2026-11-23']

`load()` also accepts `backend="savedmodel"` or `"keras"`; those two import TensorFlow
and serve to check that every backend agrees.

Backends are found by name: the runtime's own two here, and any other that an installed
package declares in the entry-point group `keras_s2s.backends` (`name =
"module:Class"`, a subclass of `keras_s2s.runtime.backends.Backend`). keras_s2s declares
its TensorFlow backends that way (`keras_s2s.export.backends`), so this package never
imports the export side.
"""

import functools
import importlib
import importlib.metadata

from keras_s2s.runtime.bundle import FORMAT_VERSION, Bundle, BundleError
from keras_s2s.runtime.translator import SourceTruncatedWarning, Translator

ENTRY_POINT_GROUP = "keras_s2s.backends"


# The runtime's own backends; the others are looked up only when asked for (scanning
# the installed packages' entry points takes tens of milliseconds of start-up).
_OWN_BACKENDS = {"tflite": "keras_s2s.runtime.backends:LiteRTBackend",
                 "onnx": "keras_s2s.runtime.backends:OnnxBackend"}


@functools.cache
def _backends():
    """Backend name -> "module:Class", imported only when asked for."""
    found = {entry.name: entry.value
             for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **_OWN_BACKENDS}


def __getattr__(name):
    if name == "BACKENDS":  # every backend name, the entry points' included
        return _backends()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def backend_class(name):
    """The backend class registered under `name`."""
    target = _OWN_BACKENDS.get(name) or _backends().get(name)
    if target is None:
        raise ValueError(f"Unknown backend {name!r}: choose one of {', '.join(_backends())}.")
    module, cls = target.split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as e:
        raise ImportError(
            f"The {name} backend ({target}) cannot be imported: {e}. The keras and "
            "savedmodel backends need TensorFlow (pip install 'keras_s2s[full]'); the "
            "runtime alone decodes with tflite and onnx."
        ) from e


def load(path, backend="tflite", verify=True, **options):
    """A `Translator` for the bundle at `path`, running on `backend`.

    Args:
        path: a bundle directory written by `keras-s2s export` (a copy holding only
            `bundle.json`, the vocabularies and the backend's own files will do), or a
            `Bundle`.
        backend: `"tflite"`, `"onnx"`, `"savedmodel"` or `"keras"`.
        verify: check the sha256 of the files the backend uses first.
        **options: backend options (`num_threads` for tflite and onnx, `xnnpack_loops`
            for tflite, `spinning` for onnx).
    """
    cls = backend_class(backend)
    if isinstance(path, Bundle):
        bundle = path
        if verify:
            bundle.verify([backend])
    else:
        bundle = Bundle(path, verify=verify, formats=[backend])
    return Translator(
        cls(bundle, **options), bundle.source_tokenizer(), bundle.target_tokenizer(),
        bundle.max_decode_length, meta=bundle.meta,
        max_source_length=bundle.meta.get("max_source_length"),
        shortlist=bundle.shortlist,  # read only when a decode asks for it
    )


__all__ = ["BACKENDS", "FORMAT_VERSION", "Bundle", "BundleError", "SourceTruncatedWarning",
           "Translator", "backend_class", "load"]
