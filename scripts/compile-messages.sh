#!/usr/bin/env bash
# Compiles the French translations (.po -> .mo); Django's compilemessages needs GNU gettext's msgfmt.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v msgfmt >/dev/null; then
  echo "Installing gettext (msgfmt) from Debian's packages"
  ${SUDO:-$( [ "$(id -u)" -eq 0 ] || echo sudo )} apt-get update -qq
  ${SUDO:-$( [ "$(id -u)" -eq 0 ] || echo sudo )} apt-get install -y -qq gettext >/dev/null
fi
DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py compilemessages \
  --ignore=.venv --ignore=node_modules -v0
