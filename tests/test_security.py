"""Security settings that every page and every deployment keep."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import DomainClaim
from tests.factories import member

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_a_claims_token_is_shown_to_its_claimant_only(dns):
    rob = member("rob@contoso.com")
    sara = member("sara@contoso.com")
    rob_client, sara_client = Client(), Client()
    rob_client.force_login(rob)
    sara_client.force_login(sara)
    rob_client.post(reverse("wizard:claim"))
    token = DomainClaim.objects.get(claimant=rob).token
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
            "SECRET_KEY": "k3y-" + "a1B2c3D4e5F6g7H8i9J0" * 3,
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
