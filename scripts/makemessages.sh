#!/usr/bin/env bash
# Refreshes the French catalogues: one per app (its own strings) and one for templates/ and config/.
set -euo pipefail
cd "$(dirname "$0")/.."
manage="$PWD/.venv/bin/python $PWD/manage.py"
export DJANGO_SETTINGS_MODULE=config.settings.local
apps=(core tenancy meetings domains licensing provisioning sso wizard portal)
for app in "${apps[@]}"; do
  (cd "$app" && mkdir -p locale && $manage makemessages -l fr --no-obsolete -v0)
done
ignores=()
for app in "${apps[@]}" .venv tests bench scripts; do ignores+=(--ignore="$app"); done
$manage makemessages -l fr --no-obsolete -v0 "${ignores[@]}"
