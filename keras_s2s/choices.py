"""The named choices of the architecture and the export, defined once and importable
without TensorFlow or Keras (the CLI's argument parser offers them in a runtime-only
install)."""

CELLS = ("gru", "lstm")
BRIDGES = ("zero", "copy", "dense")
SCORES = ("dot", "general", "concat", "bahdanau")
ATTENTIONS = ("none",) + SCORES
PLACEMENTS = ("luong", "bahdanau")
QUANTIZATIONS = ("none", "dynamic", "float16", "int8")
