#!/usr/bin/env bash
# Set up and run the whole test suite, slow tests included, on both cores: pytest-xdist
# runs each test file whole on one of two workers (`--dist loadfile`, its unit refined by
# tests/conftest.py: a file's module fixtures, such as its trained and exported models,
# are built once; test_export.py's architecture grid is shared out by variant). Without
# arguments, the tests marked `every_backend` (the layers and models) then run again on
# the JAX backend; either run failing fails the whole.
#
#   bash scripts/test.sh                          # everything
#   bash scripts/test.sh tests/layers/test_layers.py -x  # arguments go to the main pytest run
#   KERAS_S2S_WORKERS=1 bash scripts/test.sh      # one process (no xdist)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/setup.sh

workers=${KERAS_S2S_WORKERS:-2}
parallel=()
if [ "$workers" -gt 1 ]; then parallel=(-n "$workers" --dist loadfile); fi

status=0
"$VENV"/bin/python -m pytest -q -ra --durations=30 "${parallel[@]}" "$@" || status=$?

if [ $# -eq 0 ] && [ "${KERAS_S2S_SKIP_JAX:-0}" != 1 ]; then
  echo "== The layer and model tests on the JAX backend (KERAS_BACKEND=jax pytest -m every_backend)"
  # Test by test over the workers: these files' module fixtures are cheap to repeat.
  jax_parallel=()
  if [ "$workers" -gt 1 ]; then jax_parallel=(-n "$workers" --dist load); fi
  KERAS_BACKEND=jax "$VENV"/bin/python -m pytest -q -ra -m every_backend \
    "${jax_parallel[@]}" -p no:cacheprovider || status=$?
fi
exit "$status"
