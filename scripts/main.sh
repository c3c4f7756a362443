#!/usr/bin/env bash
# The main job: set up, train the default model (dates -> ISO 8601, bidirectional GRU with
# Bahdanau attention) on the built-in dates task, evaluate it on held-out dates, and
# translate a few dates with greedy and beam search, with an attention plot, then export
# it (SavedModel, TFLite, ONNX) and decode the bundle on every backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
OUT=${OUT:-runs/dates}
.venv/bin/keras-s2s train --task dates --attention bahdanau --attention-placement bahdanau \
  --bidirectional --units 64 --embedding-dim 32 --epochs 8 --patience 2 --overwrite --out "$OUT"
echo "== greedy search on 1,000 held-out dates"
.venv/bin/keras-s2s evaluate "$OUT" --examples 3
echo "== beam search (4), two best of each"
.venv/bin/keras-s2s translate "$OUT" "Nov. 23rd, 2026" "the 4th of July, 1976" "12/25/99" \
  --beam 4 --nbest 2 --attention-plot "$OUT/attention.png"
BUNDLE=${BUNDLE:-runs/dates-bundle}
echo "== export: SavedModel, TFLite, ONNX (each decoded on held-out dates and compared with Keras)"
.venv/bin/keras-s2s export "$OUT" --out "$BUNDLE" --overwrite
echo "== the bundle on every backend (tflite and onnx run without TensorFlow)"
for backend in keras savedmodel tflite onnx; do
  echo "-- $backend"
  .venv/bin/keras-s2s translate "$BUNDLE" --backend "$backend" "Nov. 23rd, 2026" "12/25/99"
done
