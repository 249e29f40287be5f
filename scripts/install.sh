#!/usr/bin/env bash
# Creates .venv with a Python >= 3.12 (Django 6.1 needs it) and installs the project with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3 \
      "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/bin/python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(find_python) || { echo "Python 3.12 or newer is required (Django 6.1)." >&2; exit 1; }
  echo "Creating .venv with $python"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# The versions of the images (requirements/, scripts/pin-requirements.py) for what they share.
.venv/bin/python -m pip install --quiet -c requirements/app.txt -c requirements/localstripe.txt \
  -e ".[dev]"
