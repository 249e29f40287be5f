"""Structured logs: every line carries the request id, the tenant and the user of the request or
the Celery task it belongs to; JSON lines in production (python-json-logger), text elsewhere.

The context lives in a ContextVar: a request binds it in two middlewares (the id first, the
tenant and user once they are known); a task published meanwhile carries it in a message header
and binds it again while it runs on the worker (config/celery.py connects the signals)."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

CONTEXT_FIELDS = ("request_id", "tenant_id", "user_id", "task")
REQUEST_ID_HEADER = "X-Request-ID"
# The message header that carries the context to the worker.
TASK_HEADER = "quorum_log_context"
# An id sent by the proxy in front is kept when it is a plausible id, never arbitrary text.
_PLAUSIBLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s "
    "[request=%(request_id)s tenant=%(tenant_id)s user=%(user_id)s] %(message)s"
)
_JSON_FIELDS = ["levelname", "name", "message", *CONTEXT_FIELDS]

_context: ContextVar[dict[str, Any]] = ContextVar("quorum_log_context")


def bind(**values: Any) -> None:
    """Add values to the context of the log lines that follow."""
    _context.set({**current(), **values})


def current() -> dict[str, Any]:
    return dict(_context.get({}))


class ContextFilter(logging.Filter):
    """Puts the context's fields on every record (None where unknown), so every line has them."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get({})
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, context.get(name))
        return True


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    """Django's LOGGING (and gunicorn's logconfig_dict): one handler on stdout, with context."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": _JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        }
        if json
        else {"format": _TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # The stripe library logs every request at INFO; its errors reach us as exceptions.
        "loggers": {"stripe": {"level": "WARNING"}},
    }


class RequestIdMiddleware:
    """First in the chain: a fresh context with the request's id, sent back as X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _PLAUSIBLE_REQUEST_ID.match(given) else uuid.uuid4().hex
        # Not reset on the way out: Django and gunicorn log the response after this returns.
        _context.set({"request_id": request_id})
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class UserContextMiddleware:
    """After the tenant middleware: the request's tenant and user join the context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        tenant = getattr(request, "tenant", None)
        bind(
            user_id=user.pk if user.is_authenticated else None,
            tenant_id=tenant.pk if tenant is not None else None,
        )
        return self.get_response(request)


def add_context_to_task(headers: dict[str, Any], **kwargs: Any) -> None:
    """Celery's before_task_publish: the publisher's context travels with the message."""
    context = {name: value for name, value in current().items() if name != "task"}
    if context:
        headers[TASK_HEADER] = context


def bind_task_context(task: Any, **kwargs: Any) -> None:
    """Celery's task_prerun: the context the task was published with, and the task's name.

    A task run eagerly (in the caller's thread) starts from the caller's context instead, which
    task_postrun gives back."""
    carried = getattr(task.request, TASK_HEADER, None) or {}
    base = current() if task.request.is_eager else {}
    task.request.log_context_token = _context.set({**base, **carried, "task": task.name})


def unbind_task_context(task: Any, **kwargs: Any) -> None:
    """Celery's task_postrun: back to the context from before the task."""
    token = getattr(task.request, "log_context_token", None)
    if token is not None:
        _context.reset(token)
