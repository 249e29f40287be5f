"""The database unreachable during a request: a clean 503 page, nothing half-written."""

import socket

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from meetings.models import Meeting
from tests.factories import member

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_lost_database_gives_a_503_page_and_no_partial_write():
    rob = member("rob@contoso.com")
    client = Client(raise_request_exception=False)
    client.force_login(rob)
    working_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        response = client.post(
            reverse("meetings:schedule"),
            {"title": "Lost", "starts_at": "2031-01-15T10:00", "ends_at": "2031-01-15T11:00"},
        )
    finally:
        connection.close()
        connection.settings_dict["PORT"] = working_port
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Quorum is briefly unavailable" in response.content.decode()
    assert not Meeting.objects.unscoped().exists()
    assert client.get(reverse("meetings:list")).status_code == 200
