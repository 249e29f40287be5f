"""Every throttle, hit: sign-up, login, password reset (asked for, or sent by an admin),
"check now", invitations."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from domains.services import start_claim
from tenancy.models import AuditEvent
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def test_sign_up_is_rate_limited_per_address(record_figure):
    client = Client()
    statuses = [
        client.post(
            reverse("account_signup"),
            {
                "name": "X",
                "email": f"x{i}@contoso.com",
                "password1": "Unusual-Pass-4321",
                "password2": "Unusual-Pass-4321",
            },
        ).status_code
        for i in range(22)
    ]
    assert 429 in statuses
    record_figure(first_refused_attempt=statuses.index(429) + 1)


def test_login_failures_are_rate_limited():
    member("rob@contoso.com")
    client = Client()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "rob@contoso.com", "password": "no"})
    response = client.post(
        reverse("account_login"), {"login": "rob@contoso.com", "password": PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_is_rate_limited_per_address(record_figure):
    member("rob@contoso.com")
    client = Client()
    statuses = [
        client.post(reverse("account_reset_password"), {"email": "rob@contoso.com"}).status_code
        for _ in range(8)
    ]
    assert 429 in statuses
    record_figure(first_refused_attempt=statuses.index(429) + 1)


def test_check_now_is_limited_to_once_per_10_seconds(dns):
    rob = member("rob@contoso.com")
    start_claim(user=rob)
    client = Client()
    client.force_login(rob)
    client.post(reverse("wizard:check_now"))
    attempts = claim_attempts(rob)
    response = client.post(reverse("wizard:check_now"), follow=True)
    assert "The domain was checked a moment ago. Try again in" in response.content.decode()
    assert claim_attempts(rob) == attempts


def claim_attempts(user):
    from domains.models import DomainClaim

    return DomainClaim.objects.unscoped().get(claimant=user).attempts


def send_reset(client, person):
    """The admin centre's "send a password reset" button; returns the messages it showed."""
    response = client.post(reverse("portal:password_reset", kwargs={"pk": person.pk}), follow=True)
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def admin_client(contoso):
    client = Client()
    client.force_login(contoso[0])
    return client


def test_resets_an_admin_sends_are_rate_limited_per_member(admin_client, contoso, record_figure):
    _rob, (sara,), _subscription = contoso
    mail.outbox.clear()
    shown = [send_reset(admin_client, sara) for _ in range(5)]
    sent = [message for message in mail.outbox if message.to == ["sara@contoso.com"]]
    assert len(sent) == 3
    assert shown[2] == ["A password reset link was sent to sara@contoso.com."]
    assert shown[3] == [
        "sara@contoso.com was sent several reset links in the last hour. Try again later."
    ]
    assert AuditEvent.objects.unscoped().filter(action="member.password_reset_sent").count() == 3
    refused = [index for index, shown_then in enumerate(shown, 1) if "several" in shown_then[0]]
    record_figure(resets_sent=len(sent), first_refused_attempt=refused[0])


def test_resets_an_admin_sends_are_rate_limited_per_admin(admin_client, contoso, record_figure):
    people = [member(f"p{index:02d}@contoso.com") for index in range(11)]
    mail.outbox.clear()
    for person in people[:10]:
        for _ in range(3):
            send_reset(admin_client, person)
    assert len(mail.outbox) == 30
    assert send_reset(admin_client, people[10]) == [
        "You sent too many password resets in the last hour. Try again later."
    ]
    assert len(mail.outbox) == 30
    record_figure(resets_sent_by_one_admin=len(mail.outbox), first_refused_attempt=31)
