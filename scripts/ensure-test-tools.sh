#!/usr/bin/env bash
# Browser tests need Debian's Chromium (never a browser downloaded by Playwright) and axe-core
# from the npm registry (package-lock.json) for the accessibility checks.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium"
  sudo=$( [ "$(id -u)" -eq 0 ] || echo sudo )
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund --silent
fi
