#!/usr/bin/env bash
# Set up and run the whole test suite, slow tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/setup.sh
"$VENV"/bin/python -m pytest -q -ra --durations=25 "$@"
