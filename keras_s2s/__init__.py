"""keras_s2s: sequence-to-sequence RNN models with attention for Keras 3.

The public names load on first use, so `import keras_s2s.runtime` (decoding exported
bundles) never imports TensorFlow or Keras:
- `keras_s2s.Seq2Seq`: the model (`Seq2Seq.from_preset`, `model.save_to_preset`);
- `keras_s2s.TrainedModel`: a model with its tokenizers (`translate`);
- `keras_s2s.layers`: `Encoder`, `Attention`, `Bridge`, `Decoder`;
- `keras_s2s.training.train` with a `keras_s2s.config.TrainingConfig`: a model
  directory from parallel text;
- `keras_s2s.export.export_bundle`: a model directory as a checked bundle;
- `keras_s2s.runtime.load`: an exported bundle on LiteRT or ONNX Runtime.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Seq2Seq": ("keras_s2s.models.seq2seq", "Seq2Seq"),
    "TrainedModel": ("keras_s2s.trained_model", "TrainedModel"),
}
_SUBMODULES = ("config", "data", "decoding", "export", "layers", "models", "presets", "runtime",
               "training", "zoo")


def __getattr__(name):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_s2s.{name}")
    raise AttributeError(f"module 'keras_s2s' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY, *_SUBMODULES])


__all__ = ["Seq2Seq", "TrainedModel", "__version__", *_SUBMODULES]
