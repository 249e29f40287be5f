"""Prometheus metrics (prometheus-client), counted where things happen by small calls.

Each process counts its own. With PROMETHEUS_MULTIPROC_DIR set (production), every process of
a container (gunicorn's workers, Celery's pool) writes its counts to files there, and the
container's endpoint adds them up: Django's /metrics for web, `serve_worker_metrics` for a
worker. Both want the METRICS_TOKEN as a bearer token."""

import hmac
import os
import threading
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_LATENCY = Histogram(
    "quorum_http_request_duration_seconds",
    "Time to answer a request, by view, method and status class.",
    ["view", "method", "status"],
)
TASKS = Counter("quorum_celery_tasks", "Celery tasks run, by outcome.", ["task", "outcome"])
DNS_CHECKS = Counter("quorum_dns_checks", "DNS lookups of domain claims, by outcome.", ["outcome"])
PURCHASES = Counter("quorum_purchases", "Licence purchases submitted, by outcome.", ["outcome"])
STRIPE_WEBHOOKS = Counter(
    "quorum_stripe_webhooks", "Stripe webhook deliveries, by result.", ["result"]
)
# Any other method a client sends is counted as "other": labels must stay a short list.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def exposition() -> tuple[bytes, str]:
    """The metrics of this container (all its processes) in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def authorized(header: str, token: str) -> bool:
    """Whether an Authorization header carries `token`; never without a token configured."""
    return bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


class MetricsMiddleware:
    """Times every request, labelled by the view that answered it (not the raw path)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUEST_LATENCY.labels(
            view=match.view_name if match else "unmatched",
            method=request.method if request.method in _METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response


def count_dns_check(*, outcome: str) -> None:
    DNS_CHECKS.labels(outcome=outcome).inc()


def count_purchase(*, outcome: str) -> None:
    PURCHASES.labels(outcome=outcome).inc()


def count_webhook_results[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Counts a webhook view's deliveries: accepted (2xx), rejected (4xx) or failed."""

    @wraps(view)
    def counted(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            response = view(*args, **kwargs)
        except Exception:
            STRIPE_WEBHOOKS.labels(result="failed").inc()
            raise
        result = {2: "accepted", 4: "rejected"}.get(response.status_code // 100, "failed")
        STRIPE_WEBHOOKS.labels(result=result).inc()
        return response

    return counted


# Celery's task_success, task_failure and task_retry signals (connected in config/celery.py).
def count_task_success(sender: Any, **kwargs: Any) -> None:
    TASKS.labels(task=sender.name, outcome="success").inc()


def count_task_failure(sender: Any, **kwargs: Any) -> None:
    TASKS.labels(task=sender.name, outcome="failure").inc()


def count_task_retry(sender: Any, **kwargs: Any) -> None:
    TASKS.labels(task=sender.name, outcome="retry").inc()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def serve_worker_metrics(*, address: str, token: str) -> None:
    """A worker's metrics, on `address` ("host:port") in a daemon thread: a worker serves no
    HTTP of its own."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not authorized(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"A valid metrics token is required."]
        body, content_type = exposition()
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    host, port = address.rsplit(":", 1)
    server = make_server(host, int(port), app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
