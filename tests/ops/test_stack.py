"""The compose stack's services, each run with its own command as a plain process (see
tests/fixtures/stack.py): the one-shots exit 0 and every long-running service does its job."""

import json
import re

from django.conf import settings

from config.celery import app
from tests.fixtures.stack import wait_for


def test_the_image_build_step_collects_the_static_files(stack):
    build = stack.one_shots["build"]
    assert build.returncode == 0, build.stderr
    assert (settings.BASE_DIR / "staticfiles" / "staticfiles.json").exists()


def test_migrate_and_stripe_setup_exit_0(stack):
    migrate, setup = stack.one_shots["migrate"], stack.one_shots["stripe-setup"]
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "Applying tenancy.0001_initial... OK" in migrate.stdout
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "localstripe sends its events to http://web:8000/stripe/webhook/" in setup.stdout
    plans = stack.localstripe.client().v1.plans.list().data
    assert {plan.id for plan in plans} >= {
        line.split(":")[0]
        for line in setup.stdout.splitlines()
        if ": " in line and not line.startswith("{")  # JSON log lines are not the command's
    }
    assert len(plans) == 2


def test_gunicorn_answers_the_health_probe(stack):
    assert stack.get("/healthz") == (200, "ok")
    # Served as it came, without a proxy header; what a proxy reports as http goes to https.
    status, _body = stack.get("/healthz", **{"X-Forwarded-Proto": "http"})
    assert status == 301


def test_gunicorn_answers_ready_once_the_worker_is_up(stack):
    wait_for(lambda: stack.get("/readyz")[0] == 200, "/readyz 200", stack.processes["worker"])
    status, body = stack.get("/readyz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ready",
        "checks": dict.fromkeys(["database", "migrations", "cache", "broker", "workers"], "ok"),
    }


def test_the_worker_answers_a_ping(stack):
    worker = stack.processes["worker"]
    wait_for(lambda: app.control.ping(destination=[stack.worker_name], timeout=1), "a pong", worker)
    assert app.control.ping(destination=[stack.worker_name], timeout=1) == [
        {stack.worker_name: {"ok": "pong"}}
    ]


def test_beat_ticks_and_the_worker_runs_what_it_sends(stack):
    beat, worker = stack.processes["beat"], stack.processes["worker"]
    wait_for(lambda: "Sending due task domains-requeue-due-claims" in beat.output(), "a tick", beat)
    wait_for(
        lambda: re.search(r"Task domains\.requeue_due_claims\[[^\]]+\] succeeded", worker.output()),
        "the worker running the sweep",
        worker,
    )
