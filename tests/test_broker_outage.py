"""Redis (the broker) down: pages still answer, and the queued work happens once it is back."""

import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from config.celery import app
from domains.models import DomainClaim
from tenancy.models import Announcement
from tenancy.tasks import requeue_unfinished_announcements
from tests.factories import member
from tests.fixtures.purchases import managed_tenant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def broker_down():
    """This process publishes to a port where nothing listens, as if Redis had stopped."""
    working = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = working
        app._pool = None
        app.amqp._producer_pool = None


def test_starting_a_claim_works_while_the_broker_is_down(dns, caplog):
    rob = member("rob@contoso.com")
    client = Client()
    client.force_login(rob)
    with broker_down():
        response = client.post(reverse("wizard:claim"))
        page = client.get(reverse("wizard:domain"))
    assert response.status_code == 302
    assert page.status_code == 200
    assert DomainClaim.objects.unscoped().get(claimant=rob).status == DomainClaim.Status.PENDING
    assert "Broker unreachable: domains.check_claim" in caplog.text


def test_an_announcement_sent_while_the_broker_is_down_goes_out_once_it_is_back(
    celery_worker, mailbox, localstripe, caplog
):
    rob, _people, _subscription = managed_tenant(localstripe, "contoso.com")
    client = Client()
    client.force_login(rob)
    with broker_down():
        response = client.post(
            reverse("portal:announce"),
            {"subject": "Moved", "body": "Hello", "recipients": "all", "step": "send"},
        )
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200
    assert mailbox.messages == []
    assert "Broker unreachable: tenancy.send_announcement" in caplog.text
    # Later, with the broker back, the beat job finds the stalled announcement.
    Announcement.objects.unscoped().update(
        created_at=Announcement.objects.unscoped().get().created_at - timedelta(minutes=5)
    )
    assert requeue_unfinished_announcements() == 1
    deadline = time.monotonic() + 30
    while len(mailbox.messages) < 2:
        assert time.monotonic() < deadline, "the announcement never went out"
        time.sleep(0.2)
    assert sorted(a for m in mailbox.messages for a in m["to"]) == [
        "rob@contoso.com",
        "sara@contoso.com",
    ]
