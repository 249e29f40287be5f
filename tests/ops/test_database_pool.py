"""Production talks to PostgreSQL through psycopg 3 and Django's connection pool."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.ops.compose import ROOT

BACKEND_PIDS = """
import json, django
django.setup()
from django.db import connection
pids = []
for _ in range(3):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
    connection.close()  # what Django does at the end of every request and task
print(json.dumps({
    "driver": connection.Database.__name__,
    "pool": connection.settings_dict["OPTIONS"]["pool"],
    "conn_max_age": connection.settings_dict["CONN_MAX_AGE"],
    "pids": pids,
}))
"""


def test_the_tests_use_psycopg_3():
    assert connection.Database.__name__ == "psycopg"


@pytest.mark.django_db
def test_production_reuses_pooled_connections_across_requests():
    db = connection.settings_dict
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
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
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["driver"] == "psycopg"
    assert report["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}
    assert report["conn_max_age"] == 0
    # Closed after each use, yet one server process served all three: the pool kept it open.
    assert len(set(report["pids"])) == 1
