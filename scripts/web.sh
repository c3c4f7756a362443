#!/usr/bin/env bash
# The browser demo: installs web/'s npm packages if they are missing, then serves the
# repository on http://127.0.0.1:${PORT:-8080}/web/ (the page, the zoo's bundles under
# /export/, onnxruntime-web from web/node_modules; no CDN). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "web.sh: Node.js is needed (apt-get install nodejs)." >&2; exit 1; }
if [ ! -d web/node_modules/onnxruntime-web ]; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node web/serve.mjs --port "${PORT:-8080}"
