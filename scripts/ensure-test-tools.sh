#!/usr/bin/env bash
# axe-core from the npm registry (package-lock.json) for the accessibility checks of the browser
# tests. Debian's Chromium comes from scripts/ensure-packages.sh (never a browser downloaded by
# Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund --silent
fi
