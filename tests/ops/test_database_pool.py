"""Production talks to PostgreSQL through psycopg 3 and Django's connection pool."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.fixtures.production import PRODUCTION_SECRETS
from tests.ops.compose import ROOT

BACKEND_PIDS = """
import json, django
django.setup()
from django.db import connection
pids = []
for _ in range(5):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
    connection.close()  # what Django does at the end of every request and task
print(json.dumps({
    "driver": connection.Database.__name__,
    "pool": connection.settings_dict["OPTIONS"].get("pool"),
    "conn_max_age": connection.settings_dict["CONN_MAX_AGE"],
    "pids": pids,
}))
"""


def test_the_tests_use_psycopg_3():
    assert connection.Database.__name__ == "psycopg"


def backend_pids(settings_module: str, **settings: str) -> dict:
    """Five uses of the database, each closed after, in a process of `settings_module` (with
    the environment `settings`)."""
    db = connection.settings_dict
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        **PRODUCTION_SECRETS,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        **settings,
    }
    environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", BACKEND_PIDS],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.django_db
def test_production_reuses_pooled_connections_across_requests():
    pooled = backend_pids("config.settings.production")
    assert pooled["driver"] == "psycopg"
    assert pooled["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}
    assert pooled["conn_max_age"] == 0
    # Closed after each use, yet served by the one or two server processes the pool keeps open
    # (its filler may open one while the first use opens another).
    assert len(set(pooled["pids"])) <= 2
    # Without the pool (the tests' settings), each use is a new server process.
    unpooled = backend_pids("config.settings.test")
    assert unpooled["pool"] is None
    assert len(set(unpooled["pids"])) == 5


@pytest.mark.django_db
def test_production_without_the_pool_opens_a_connection_per_use():
    """DB_POOL=false (behind PgBouncer, or the benchmark's comparison)."""
    unpooled = backend_pids("config.settings.production", DB_POOL="false")
    assert unpooled["pool"] is None
    assert unpooled["conn_max_age"] == 0
    assert len(set(unpooled["pids"])) == 5
