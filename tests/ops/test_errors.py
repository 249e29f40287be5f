"""Sentry's SDK, on when SENTRY_DSN is set: an error in a view and in a task both reach a Sentry
stand-in on loopback (tests/fixtures/sentry.py), tagged with the request's context."""

import os
import subprocess
import sys
import uuid

import sentry_sdk

from tests.ops.compose import ROOT
from tests.ops.failing_urls import FAILURE
from tests.ops.test_logs import queue_in_request

VIEW_REQUEST = """
import django, sentry_sdk
django.setup()
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.ops.failing_urls"):
    response = Client(raise_request_exception=False).get(
        "/failing", HTTP_X_REQUEST_ID="sentry-view-0001"
    )
sentry_sdk.flush()
print(response.status_code)
"""


def test_sentry_is_off_without_a_dsn():
    assert not sentry_sdk.get_client().is_active()


def test_an_error_in_a_view_reaches_sentry(sentry_sink):
    environ = {**os.environ, "SENTRY_DSN": sentry_sink.dsn, "SENTRY_ENVIRONMENT": "test"}
    environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", VIEW_REQUEST],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "500", result.stderr
    event = sentry_sink.wait_for_event("sentry-view-0001")
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["exception"]["values"][-1]["value"] == FAILURE
    assert event["transaction"] == "/failing"
    assert event["environment"] == "test"
    assert "user" not in event or "email" not in event["user"]  # no personal data


def test_an_error_in_a_task_on_the_worker_reaches_sentry(stack, sentry_sink):
    # The real task, failing on the stack's worker: the announcement does not exist.
    request_id = f"sentry-task-{uuid.uuid4().hex[:8]}"
    queue_in_request(request_id, stack.environ["CELERY_TASK_DEFAULT_QUEUE"])
    event = sentry_sink.wait_for_event(request_id)
    assert event["exception"]["values"][-1]["type"] == "Announcement.DoesNotExist"
    assert event["exception"]["values"][-1]["value"] == (
        "Announcement matching query does not exist."
    )
    assert event["tags"]["task"] == "tenancy.send_announcement"
