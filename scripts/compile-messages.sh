#!/usr/bin/env bash
# Compiles the French translations (.po -> .mo); Django's compilemessages needs GNU gettext's
# msgfmt (installed by `make install`: scripts/ensure-packages.sh gettext).
set -euo pipefail
cd "$(dirname "$0")/.."
DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py compilemessages \
  --ignore=.venv --ignore=node_modules -v0
