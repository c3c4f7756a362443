"""Export a trained model as a bundle: SavedModel, TFLite, ONNX and the `.keras` model.

    from keras_s2s.export import export_bundle
    report = export_bundle("runs/dates", "export/dates", quantize="dynamic")

The modules, in the order an export uses them:

- `graphs`: the encode, decode-step, greedy and beam functions traced from the model's
  own layers (`ExportGraphs`), which every format is made of;
- `writers`: one writer per format (`keras`, `savedmodel`, `tflite`, `onnx`) behind a
  registry, using the converters of `savedmodel`, `tflite` and `onnx`;
- `tokenizer_files`: the tokenizers described for ports to other languages;
- `checks`: every export decoded and compared with Keras before it is published;
- `bundle`: `export_bundle`, which runs the stages and writes `bundle.json` once;
- `backends`: the Keras model and the SavedModel as `keras_s2s.runtime` backends.

The bundle directory appears complete or not at all.
"""

from keras_s2s.choices import QUANTIZATIONS  # noqa: F401  (re-exported)
from keras_s2s.export.bundle import export_bundle, remove_formats, step_contract
from keras_s2s.export.checks import MIN_AGREEMENT, beam_agreement, token_agreement
from keras_s2s.export.tokenizer_files import conformance_cases
from keras_s2s.export.writers import (
    STEP_ROLES,
    WHOLE_LOOP_ROLES,
    WRITERS,
    onnx_functions,
    onnx_model,
    tflite_functions,
)

__all__ = ["MIN_AGREEMENT", "QUANTIZATIONS", "STEP_ROLES", "WHOLE_LOOP_ROLES", "WRITERS",
           "beam_agreement", "conformance_cases", "export_bundle", "onnx_functions", "onnx_model",
           "remove_formats", "step_contract", "tflite_functions", "token_agreement"]
