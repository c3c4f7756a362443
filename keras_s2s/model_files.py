"""The file names of a model directory (`keras-s2s train --out DIR`), importable
without TensorFlow (the CLI tells a model directory from a bundle with them)."""

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
META_FILE = "s2s.json"
SOURCE_VOCAB_FILE = "source_vocab.txt"
TARGET_VOCAB_FILE = "target_vocab.txt"
HISTORY_FILE = "history.json"
