"""Every throttle, hit: sign-up, login, password reset, "check now", invitations."""

import pytest
from django.test import Client
from django.urls import reverse

from domains.services import start_claim
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
