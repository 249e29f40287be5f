"""/readyz: 200 when every dependency answers, 503 naming the one that does not. Each is stopped
in turn by pointing its setting at a closed loopback port, or, for the workers, by having none
read the queue."""

import socket
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.celery import app

CHECKS = {"database", "migrations", "cache", "broker", "workers"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readyz() -> tuple[int, dict]:
    response = Client().get("/readyz")
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


def failing(body: dict) -> set[str]:
    return {name for name, state in body["checks"].items() if state != "ok"}


@contextmanager
def queue_nobody_reads():
    """The project's task queue renamed: the workers that answer read other queues."""
    queue = app.conf.task_default_queue
    app.conf.task_default_queue = f"{queue}-nobody"
    try:
        yield
    finally:
        app.conf.task_default_queue = queue


def test_ready_when_every_dependency_answers(celery_worker):
    status, body = readyz()
    assert (status, body["status"]) == (200, "ready"), body
    assert body["checks"] == dict.fromkeys(CHECKS, "ok")


@pytest.mark.django_db
def test_the_database_stopped_is_named():
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = closed_port()  # connections the probes open from now on
    try:
        status, body = readyz()
    finally:
        connection.settings_dict["PORT"] = port
    assert (status, body["status"]) == (503, "unavailable")
    assert {"database", "migrations"} <= failing(body)
    assert body["checks"]["database"].startswith("Unavailable:")
    assert body["checks"]["migrations"] == "Unavailable: Database unreachable"
    assert body["checks"]["cache"] == body["checks"]["broker"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_a_migration_not_applied_is_named():
    app_label, name = next(
        node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "domains"
    )
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied(app_label, name)
    try:
        status, body = readyz()
    finally:
        recorder.record_applied(app_label, name)
    assert status == 503
    assert body["checks"]["migrations"] == f"Unavailable: Migrations not applied: domains.{name}"
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_the_cache_stopped_is_named(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ReusedClientRedisCache",  # production's
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/1",
        }
    }
    status, body = readyz()
    assert status == 503
    assert body["checks"]["cache"] == "Unexpected Result: Connection Error"
    assert body["checks"]["database"] == body["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_the_broker_stopped_is_named(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    status, body = readyz()
    assert status == 503
    assert body["checks"]["broker"] == "Unavailable: Broker unreachable"
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_no_worker_reading_the_queue_is_named():
    with queue_nobody_reads():
        status, body = readyz()
    assert status == 503
    assert failing(body) == {"workers"}
    assert body["checks"]["workers"] in (
        "Unavailable: No worker answered",  # alone on this broker
        f"Unavailable: No worker reads the queue {app.conf.task_default_queue}-nobody",
    )


@pytest.mark.django_db
def test_the_liveness_probe_stays_query_free_while_readiness_is_down():
    connection.settings_dict["PORT"], port = closed_port(), connection.settings_dict["PORT"]
    try:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get("/healthz").status_code == 200
            assert Client().get("/readyz").status_code == 503
    finally:
        connection.settings_dict["PORT"] = port
    assert len(queries) == 0
