#!/usr/bin/env bash
# Set up and run the whole test suite, slow tests included. Without arguments, the
# tests marked `every_backend` (the layers and models) also run on the JAX backend, in
# a second pytest process beside the main one (TensorFlow); its report follows the
# main report, and either failing fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/setup.sh

jax_pid=""
if [ $# -eq 0 ] && [ "${KERAS_S2S_SKIP_JAX:-0}" != 1 ]; then
  jax_log=$(mktemp)
  # At a lower priority: the main run keeps the CPU it needs, this one takes what it
  # leaves (the main run is often waiting on one core).
  KERAS_BACKEND=jax nice -n 10 "$VENV"/bin/python -m pytest -q -ra -m every_backend \
    -p no:cacheprovider > "$jax_log" 2>&1 &
  jax_pid=$!
fi

status=0
"$VENV"/bin/python -m pytest -q -ra --durations=25 "$@" || status=$?

if [ -n "$jax_pid" ]; then
  jax_status=0
  wait "$jax_pid" || jax_status=$?
  echo "== The layer and model tests on the JAX backend (KERAS_BACKEND=jax pytest -m every_backend)"
  cat "$jax_log"
  rm -f "$jax_log"
  if [ "$jax_status" != 0 ]; then status=$jax_status; fi
fi
exit "$status"
