#!/usr/bin/env bash
# Creates .venv (if missing) and installs keras_s2s with the whole pinned stack (the
# `full` extra: training, export and both runtimes), the JAX backend and the test tools
# into it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV"/bin/python -m pip install -qq --upgrade pip
"$VENV"/bin/python -m pip install -qq -e '.[full,jax,test]'  # -qq: errors only

# The browser runtime (web/): its npm packages (pinned by web/package-lock.json) and,
# for its tests, Debian's Chromium. Skipped with a note where Node.js or apt is missing:
# the browser tests then skip and say so.
if [ "${KERAS_S2S_SKIP_WEB:-0}" != 1 ]; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq nodejs npm >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } || true
  fi
  if command -v npm >/dev/null; then
    if [ ! -d web/node_modules/onnxruntime-web ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
      npm ci --prefix web --no-audit --no-fund --loglevel=error >/dev/null
    fi
  else
    echo "setup: npm not found; the browser runtime (web/) is not set up (install Node.js 20)." >&2
  fi
  if ! command -v chromium >/dev/null && [ ! -x "${KERAS_S2S_CHROMIUM:-/usr/bin/chromium}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      # No -qq on update's failure path: a registry that is out of reach should be seen.
      apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
        || echo "setup: chromium could not be installed; the browser tests will skip." >&2
    else
      echo "setup: no Chromium (apt-get install chromium, or set KERAS_S2S_CHROMIUM); the browser tests will skip." >&2
    fi
  fi
fi
