#!/usr/bin/env bash
# axe-core from the npm registry (package-lock.json) for the accessibility checks of the browser
# tests, and the certified oidc-provider for the single sign-on tests. Debian's Chromium and
# xmlsec1 (with which the tests' pysaml2 IdP signs) come from scripts/ensure-packages.sh (never a
# browser downloaded by Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/oidc-provider/package.json ]; then
  npm ci --no-audit --no-fund --silent
fi
