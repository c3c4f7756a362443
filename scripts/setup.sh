#!/usr/bin/env bash
# Creates .venv (if missing) and installs keras_s2s with the whole pinned stack (the
# `full` extra: training, export and both runtimes) and the test tools into it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV"/bin/python -m pip install -qq --upgrade pip
"$VENV"/bin/python -m pip install -qq -e '.[full,test]'  # -qq: errors only
