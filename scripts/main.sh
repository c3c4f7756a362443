#!/usr/bin/env bash
# The main job: set up .venv, then `keras-s2s quickstart` — train the default model
# (bidirectional GRU with Bahdanau attention) on the built-in dates task, evaluate it on
# held-out dates, plot its attention, export it (SavedModel, TFLite, ONNX), decode
# examples on every backend and print a summary table. Output: runs/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/keras-s2s quickstart --out "${OUT:-runs/quickstart}" "$@"
