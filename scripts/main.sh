#!/usr/bin/env bash
# The main job: set up, train the default model on the built-in reverse task, evaluate it
# on held-out sequences, and decode examples with greedy and beam search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
OUT=${OUT:-runs/reverse-general}
.venv/bin/keras-s2s train --task reverse --attention general --epochs 5 --out "$OUT"
echo "== greedy search on the held-out test split"
.venv/bin/keras-s2s evaluate "$OUT" --examples 5
echo "== beam search (4)"
.venv/bin/keras-s2s evaluate "$OUT" --beam 4 --json
