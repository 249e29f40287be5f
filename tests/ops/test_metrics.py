"""Prometheus metrics (core.metrics): counted where things happen, served behind a token."""

import json
import re
import time
import uuid

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from domains.services import confirm_record_added, start_claim
from tests.factories import member
from tests.fixtures.stack import METRICS_TOKEN, wait_for
from tests.licensing.test_webhooks import post, signature
from tests.ops.test_logs import queue_in_request
from tests.wizard.test_licences import buy_through_the_page, open_step_4, rob  # noqa: F401

TOKEN = "metrics-token-for-tests"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


@pytest.mark.django_db
def test_metrics_need_the_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    refused = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert (refused.status_code, refused["WWW-Authenticate"]) == (401, "Bearer")
    assert Client().get("/metrics").status_code == 401
    served = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/plain")
    assert "# TYPE quorum_http_request_duration_seconds histogram" in served.content.decode()


@pytest.mark.django_db
def test_request_latency_is_counted_by_view_method_and_status():
    labels = {"view": "healthz", "method": "GET", "status": "2xx"}
    before = sample("quorum_http_request_duration_seconds_count", **labels)
    Client().get("/healthz")
    Client().generic("BREW", "/healthz")
    assert sample("quorum_http_request_duration_seconds_count", **labels) == before + 1
    assert (
        sample(
            "quorum_http_request_duration_seconds_count",
            view="healthz",
            method="other",
            status="4xx",
        )
        >= 1
    )


@pytest.mark.django_db
def test_webhook_results_are_counted(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_metrics"
    before = {
        result: sample("quorum_stripe_webhooks_total", result=result)
        for result in ("accepted", "rejected")
    }
    payload = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    )
    assert post(Client(), payload, signature(payload, secret="whsec_metrics")).status_code == 200
    assert post(Client(), payload, "t=1,v1=forged").status_code == 400
    assert sample("quorum_stripe_webhooks_total", result="accepted") == before["accepted"] + 1
    assert sample("quorum_stripe_webhooks_total", result="rejected") == before["rejected"] + 1


@pytest.mark.django_db
def test_purchases_are_counted_by_outcome(client, rob, localstripe):  # noqa: F811
    before = {
        outcome: sample("quorum_purchases_total", outcome=outcome)
        for outcome in ("succeeded", "failed")
    }
    declined = buy_through_the_page(
        client, localstripe, open_step_4(client, rob), card="4000000000000341"
    )
    assert declined.status_code == 400
    assert buy_through_the_page(client, localstripe, open_step_4(client, rob)).status_code == 302
    assert sample("quorum_purchases_total", outcome="failed") == before["failed"] + 1
    assert sample("quorum_purchases_total", outcome="succeeded") == before["succeeded"] + 1


@pytest.mark.django_db
def test_dns_checks_are_counted_by_outcome(dns):
    claimant = member("dana@contoso.com")
    claim = start_claim(user=claimant)
    before = sample("quorum_dns_checks_total", outcome="nxdomain")
    confirm_record_added(claim=claim, user=claimant)
    assert sample("quorum_dns_checks_total", outcome="nxdomain") == before + 1


def test_each_container_serves_the_sum_of_its_processes(stack):
    """web: /metrics over its gunicorn workers; a worker: its own port, over its pool."""
    token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    for _ in range(6):  # spread over the 2 gunicorn workers
        stack.get("/healthz")
    status, web = stack.get("/metrics", **token)
    assert status == 200
    assert (
        scraped(
            web,
            "quorum_http_request_duration_seconds_count",
            view="healthz",
            method="GET",
            status="2xx",
        )
        >= 6
    )

    worker_port = int(stack.environ["WORKER_METRICS_ADDRESS"].rsplit(":", 1)[1])
    assert stack.get("/metrics", port=worker_port)[0] == 401
    queue_in_request(f"metrics-{uuid.uuid4().hex[:8]}", stack.environ["CELERY_TASK_DEFAULT_QUEUE"])

    def counted(task: str, outcome: str) -> bool:
        metrics = stack.get("/metrics", port=worker_port, **token)[1]
        return scraped(metrics, "quorum_celery_tasks_total", task=task, outcome=outcome) >= 1

    worker = stack.processes["worker"]
    wait_for(lambda: counted("tenancy.send_announcement", "failure"), "a failure", worker)
    # beat's sweeps, run by the worker's pool processes
    wait_for(lambda: counted("domains.requeue_due_claims", "success"), "a success", worker)
