"""HTTPS behind the TLS proxy (core.https): only what the proxy reports as http is redirected."""

import pytest
from django.test import Client


@pytest.fixture
def behind_a_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_what_the_proxy_reports_as_http_is_sent_to_https(behind_a_proxy):
    response = Client().get(
        "/healthz?probe=1", HTTP_X_FORWARDED_PROTO="http", HTTP_HOST="q.example"
    )
    assert response.status_code == 301
    assert response["Location"] == "https://q.example/healthz?probe=1"


def test_https_through_the_proxy_and_direct_calls_are_served(behind_a_proxy):
    assert Client().get("/healthz", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert Client().get("/healthz").status_code == 200


def test_without_a_proxy_header_setting_nothing_is_redirected(settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    assert Client().get("/healthz", HTTP_X_FORWARDED_PROTO="http").status_code == 200
