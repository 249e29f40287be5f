#!/usr/bin/env bash
# Shows what `make run` and `make test` set up on this machine, one line per step:
# "ok <step>: <what was found>" or "missing <step>: <what is wrong>". Exits 1 if a step is missing.
# Changes nothing (scripts/ensure-*.sh do the changes).
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
ok() { echo "ok $1: $2"; }
missing() { echo "missing $1: $2"; failed=1; }

# Python >= 3.12 in .venv (scripts/install.sh).
if version=$(.venv/bin/python -c 'import sys; assert sys.version_info >= (3, 12); print(sys.version.split()[0])' 2>/dev/null); then
  ok python "$version in .venv"
else
  missing python ".venv with Python >= 3.12 (make install)"
fi

# The tools of scripts/ensure-packages.sh, with the package that installed each one.
package_of() { dpkg-query -S "$1" 2>/dev/null | head -n1 | cut -d: -f1; }
tool() {  # step, path or command name
  local path
  path=$(command -v "$2" 2>/dev/null || true)
  [ -n "$path" ] || { missing "$1" "$2 not found"; return; }
  local package
  package=$(package_of "$path")
  [ -n "$package" ] || package=$(package_of "$(readlink -f "$path")")
  ok "$1" "$path${package:+ (package $package $(dpkg-query -W -f='${Version}' "$package"))}"
}
tool gettext msgfmt
postgres=$(compgen -G "/usr/lib/postgresql/*/bin/postgres" | sort -V | tail -n1)
if [ -n "$postgres" ]; then tool postgresql "$postgres"; else missing postgresql "no server under /usr/lib/postgresql"; fi
tool redis redis-server
tool node node
tool npm npm
tool chromium /usr/bin/chromium
tool xmlsec1 xmlsec1

# The services answer (scripts/ensure-services.sh).
if pg_isready -q -h 127.0.0.1 -p 5432; then ok postgresql-server "answers on 127.0.0.1:5432"; else missing postgresql-server "no answer on 127.0.0.1:5432"; fi
if [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then ok redis-server "answers PONG on 127.0.0.1:6379"; else missing redis-server "no PONG on 127.0.0.1:6379"; fi

# The tests' role and its database (scripts/ensure-database.sh), logging in as the tests do.
attributes=$(PGPASSWORD=quorum psql -X -tA -h 127.0.0.1 -U quorum -d quorum -c \
  "SELECT rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = current_user" 2>/dev/null)
if [ "$attributes" = "t|t" ]; then
  ok role "quorum logs in over TCP with its password to database quorum, may create databases"
else
  missing role "quorum cannot log in to database quorum with its password, or may not create databases"
fi
if [ "$(id -u)" -eq 0 ]; then
  has_password=$(runuser -u postgres -- psql -X -tA -d postgres -c \
    "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'quorum'" 2>/dev/null)
  if [ "$has_password" = t ]; then ok role-password "quorum has a password (Debian's cluster asks for it over TCP)"; else missing role-password "quorum has no password"; fi
fi

# axe-core for the accessibility checks (scripts/ensure-test-tools.sh).
if [ -f node_modules/axe-core/axe.min.js ]; then ok axe-core "node_modules/axe-core"; else missing axe-core "npm ci not run"; fi
exit $failed
