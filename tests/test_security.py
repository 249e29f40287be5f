"""Security settings that every page and every deployment keep."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import DomainClaim
from tests.factories import PASSWORD, member
from tests.fixtures.production import PRODUCTION_SECRETS
from tests.fixtures.two_factor import enrol_totp, totp_code

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_a_claims_token_is_shown_to_its_claimant_only(dns):
    rob = member("rob@contoso.com")
    sara = member("sara@contoso.com")
    rob_client, sara_client = Client(), Client()
    rob_client.force_login(rob)
    sara_client.force_login(sara)
    rob_client.post(reverse("wizard:claim"))
    token = DomainClaim.objects.unscoped().get(claimant=rob).token
    assert token in rob_client.get(reverse("wizard:domain")).content.decode()
    sara_client.post(reverse("wizard:claim"))
    for path in (
        reverse("wizard:start"),
        reverse("wizard:domain"),
        reverse("wizard:domain_status"),
    ):
        body = sara_client.get(path).content.decode()
        assert token not in body, path
    assert "Rob" in sara_client.get(reverse("wizard:domain")).content.decode()


def test_production_cookies_are_secure_httponly_and_samesite():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE, s.SECURE_PROXY_SSL_HEADER[0],"
        " s.SECURE_HSTS_SECONDS, 'core.https.RedirectToHttpsMiddleware' in s.MIDDLEWARE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            **PRODUCTION_SECRETS,
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "True",
        "True",
        "Lax",
        "True",
        "Lax",
        "HTTP_X_FORWARDED_PROTO",
        "31536000",
        "True",
    ]


DJANGO_ADMIN = "/django-admin/"


@pytest.mark.django_db
def test_the_django_admin_has_no_login_of_its_own():
    """Its own login form would skip allauth's rate limits and second factor."""
    staff = member("ops@contoso.com", is_staff=True, is_superuser=True)
    client = Client()
    page = client.get(DJANGO_ADMIN + "login/")
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_login") + "?next=")
    for fields in ({"username": staff.email}, {"login": staff.email}, {"email": staff.email}):
        response = client.post(
            DJANGO_ADMIN + "login/", {**fields, "password": PASSWORD, "next": DJANGO_ADMIN}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert "_auth_user_id" not in client.session
    assert client.get(DJANGO_ADMIN).status_code == 302


@pytest.mark.django_db
def test_staff_signed_in_through_allauth_with_their_second_factor_reach_the_django_admin():
    staff = member("ops@contoso.com", is_staff=True, is_superuser=True)
    secret = enrol_totp(staff)
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": staff.email, "password": PASSWORD, "next": DJANGO_ADMIN}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(DJANGO_ADMIN).status_code == 302  # not signed in before the code
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response["Location"] == DJANGO_ADMIN
    assert client.get(DJANGO_ADMIN).status_code == 200
    assert client.get(DJANGO_ADMIN + "tenancy/tenant/").status_code == 200


@pytest.mark.django_db
def test_staff_without_a_second_factor_see_nothing_and_are_sent_to_set_one_up():
    """Staff see every tenant: a password alone must not open it."""
    staff = member("ops@contoso.com", is_staff=True, is_superuser=True)
    client = Client()
    client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    for page in ("", "tenancy/tenant/", "tenancy/auditevent/"):
        path = DJANGO_ADMIN + page
        response = client.get(path, follow=True)
        assert response.redirect_chain[-1][0] == reverse("mfa_index"), path
        assert "Support staff sign in with a second factor." in response.content.decode()

    enrol_totp(staff)

    assert client.get(DJANGO_ADMIN).status_code == 200


@pytest.mark.django_db
def test_a_member_who_is_not_staff_does_not_reach_the_django_admin():
    sara = member("sara@contoso.com")
    client = Client()
    client.post(reverse("account_login"), {"login": sara.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    response = client.get(DJANGO_ADMIN, follow=True)
    assert response.status_code == 403
    assert client.get(DJANGO_ADMIN + "tenancy/user/").status_code in (302, 403)
    assert client.get(DJANGO_ADMIN + "tenancy/user/", follow=True).status_code == 403
