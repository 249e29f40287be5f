"""The project's shape: production settings are safe, the health probe is cheap."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures.production import PRODUCTION_SECRETS, SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env_extra):
    """manage.py under the production settings; a None in `env_extra` unsets that variable."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env_extra}
    env = {name: value for name, value in env.items() if value is not None}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests only
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_real_secret_key():
    result = run_manage("check", env_extra={"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "   ",
        "whsec_quorum_local",
        "whsec_" + "x" * 40,
        "changeme-changeme-changeme-changeme-changeme",
        "sk_live_" + "Q7vK2mX9pL4sN8dR3tY6wB1zH5cF0gJe",
    ],
)
def test_production_refuses_to_start_without_a_real_stripe_webhook_secret(secret):
    """An empty or placeholder secret would answer 400 to every webhook: lost cancellations."""
    result = run_manage(
        "check", env_extra={"SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": secret}
    )
    assert result.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET must be set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={**PRODUCTION_SECRETS, "ALLOWED_HOSTS": "quorum.example"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_the_health_probe_answers_ok_without_touching_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
    assert response["Content-Type"].startswith("text/plain")
    assert len(queries) == 0
    assert client.post("/healthz").status_code == 405
