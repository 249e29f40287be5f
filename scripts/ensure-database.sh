#!/usr/bin/env bash
# The PostgreSQL role of the tests (config/settings/test.py): `quorum`, password `quorum`,
# allowed to create the test databases, and its database `quorum`. Debian's own cluster asks
# for a password over TCP, so the role has one even where the server trusts every login.
# Idempotent: an existing role gets the same attributes again, nothing else is touched.
set -euo pipefail
ROLE=quorum
PASSWORD=quorum
TEST_DB=${QUORUM_TEST_DB:-test_quorum}

# The server's superuser, through the local socket (peer authentication on Debian).
if [ "$(id -u)" -eq 0 ]; then as_postgres=(runuser -u postgres --); else as_postgres=(sudo -u postgres); fi
psql_admin() { "${as_postgres[@]}" psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

psql_admin <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL
if [ -z "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$ROLE'")" ]; then
  psql_admin -c "CREATE DATABASE $ROLE OWNER $ROLE"
fi
# A test database left behind by a run under another role (an interrupted session) would stop
# pytest from dropping and re-creating it: hand it to the tests' role.
if [ -n "$(psql_admin -tA -c "SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
    WHERE d.datname = '$TEST_DB' AND r.rolname <> '$ROLE'")" ]; then
  psql_admin -c "ALTER DATABASE \"$TEST_DB\" OWNER TO $ROLE"
fi
