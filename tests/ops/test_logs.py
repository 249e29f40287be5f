"""Log lines carry the request id, the tenant and the user, in requests and in the tasks they
queue; production writes them as JSON (python-json-logger)."""

import contextvars
import io
import json
import logging.config
import re
import uuid

import pytest
from django.conf import settings
from django.test import Client

from core.logging import bind, logging_config
from tenancy.tasks import send_announcement
from tests.factories import member
from tests.fixtures.stack import wait_for


@pytest.fixture
def json_logs():
    """Production's logging, its handler writing to a buffer: a function returning its lines."""
    logging.config.dictConfig(logging_config(json=True, level="INFO"))
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_a_request_logs_its_id_tenant_and_user_on_every_line(json_logs):
    rob = member("rob@contoso.com")
    client = Client()
    client.force_login(rob)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (line,) = [line for line in json_logs() if line["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page"
    assert line["level"] == "WARNING"
    assert (line["request_id"], line["tenant_id"], line["user_id"]) == (
        request_id,
        rob.membership.tenant_id,
        rob.pk,
    )
    assert "timestamp" in line


@pytest.mark.django_db
def test_the_proxys_request_id_is_kept_when_plausible_and_replaced_when_not():
    kept = Client().get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a9c21")
    assert kept["X-Request-ID"] == "edge-7f3a9c21"
    replaced = Client().get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])


def queue_in_request(request_id: str, queue: str, **context: int) -> None:
    """Queue the mailing of an announcement that does not exist (the task fails) as a request
    would, in a context of its own so that nothing leaks into the next test."""

    def publish() -> None:
        bind(request_id=request_id, **context)
        send_announcement.apply_async((0,), queue=queue)

    contextvars.copy_context().run(publish)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_production_logs_are_json_with_the_context_in_gunicorn_and_in_tasks(stack):
    status, _ = stack.get("/healthz", **{"X-Request-ID": "stack-request-0001"})
    assert status == 200
    web = stack.processes["web"]
    wait_for(lambda: "stack-request-0001" in web.output(), "the access line", web)
    (access,) = [
        line for line in json_lines(web.output()) if line["request_id"] == "stack-request-0001"
    ]
    assert access["logger"] == "gunicorn.access"
    assert '"GET /healthz HTTP/1.1" 200' in access["message"]

    # What a request queues carries its context to the worker.
    request_id = f"stack-task-{uuid.uuid4().hex[:8]}"
    queue_in_request(
        request_id, stack.environ["CELERY_TASK_DEFAULT_QUEUE"], tenant_id=41, user_id=42
    )
    worker = stack.processes["worker"]

    def task_lines() -> list[dict]:
        return [line for line in json_lines(worker.output()) if line["request_id"] == request_id]

    wait_for(lambda: any(line["level"] == "ERROR" for line in task_lines()), "its error", worker)
    assert {(line["tenant_id"], line["user_id"], line["task"]) for line in task_lines()} == {
        (41, 42, "tenancy.send_announcement")
    }
    (error,) = [line for line in task_lines() if line["level"] == "ERROR"]
    assert error["logger"] == "celery.app.trace"
    assert "raised unexpected: DoesNotExist" in error["message"]
