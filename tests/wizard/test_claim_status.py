"""Step 3's live status: once the domain is confirmed the rest of the page follows (step bar,
instructions), and the check times read to the second under a minute."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import DomainClaim
from tests.factories import member

HTMX = {"HX-Request": "true"}


@pytest.fixture
def rob_client(client, db):
    rob = member("rob@contoso.com", name="Rob Martin")
    client.force_login(rob)
    client.post(reverse("wizard:claim"))
    return client


def claim():
    return DomainClaim.objects.unscoped().get()


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def current_step(page):
    return re.search(r'class="current" aria-current="step"> <span class="step-number">(\d)', page)[
        1
    ]


def test_confirmed_by_the_button_moves_the_step_bar_and_drops_the_instructions(
    rob_client, dns, localstripe
):
    dns.set_txt("contoso.com", claim().record_value)
    page = text(rob_client.post(reverse("wizard:record_added"), headers=HTMX))
    assert "Domain confirmed" in page
    steps = re.search(r'<ol class="steps" id="wizard-steps"[^>]*>.*?</ol>', page)[0]
    assert 'hx-swap-oob="true"' in steps
    assert current_step(steps) == "4"
    assert '<div id="record-instructions" hx-swap-oob="delete"></div>' in page
    # Reloaded, the page says the same.
    full = text(rob_client.get(reverse("wizard:domain")))
    assert current_step(full) == "4"
    assert 'id="record-instructions"' not in full


def test_confirmed_while_polling_moves_the_step_bar_too(rob_client):
    DomainClaim.objects.unscoped().update(status=DomainClaim.Status.VERIFIED)
    page = text(rob_client.get(reverse("wizard:domain_status"), headers=HTMX))
    assert current_step(page) == "4"
    assert 'hx-swap-oob="delete"' in page


def test_while_pending_the_poll_changes_nothing_else(rob_client):
    page = text(rob_client.get(reverse("wizard:domain_status"), headers=HTMX))
    assert "hx-swap-oob" not in page
    full = text(rob_client.get(reverse("wizard:domain")))
    assert current_step(full) == "3"
    assert 'id="record-instructions"' in full
    assert "hx-swap-oob" not in full


@pytest.mark.parametrize(
    ("next_in", "last_ago", "next_text", "last_text"),
    [
        (timedelta(seconds=54.5), timedelta(seconds=12.5), "in 54 seconds", "12 seconds ago"),
        (timedelta(seconds=1.5), timedelta(seconds=1.5), "in 1 second", "1 second ago"),
        (
            timedelta(minutes=3, seconds=10),
            timedelta(minutes=5, seconds=1),
            "in 3 minutes",
            "5 minutes ago",
        ),
        (-timedelta(seconds=5), timedelta(0), "any moment now", "just now"),
    ],
)
def test_check_times_read_to_the_second_under_a_minute(
    rob_client, next_in, last_ago, next_text, last_text
):
    now = timezone.now()
    DomainClaim.objects.unscoped().update(
        next_check_at=now + next_in, last_checked_at=now - last_ago
    )
    page = text(rob_client.get(reverse("wizard:domain_status")))
    assert f"({next_text})" in page
    assert f"({last_text})" in page
    assert "0 minutes" not in page


def test_check_times_in_french(rob_client):
    rob_client.cookies["django_language"] = "fr"
    now = timezone.now()
    DomainClaim.objects.unscoped().update(
        next_check_at=now + timedelta(seconds=54.5), last_checked_at=now - timedelta(seconds=12.5)
    )
    page = text(rob_client.get(reverse("wizard:domain_status")))
    assert "(dans 54 secondes)" in page
    assert "(il y a 12 secondes)" in page
