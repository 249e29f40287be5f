"""`make run`'s demo: Rob, its admin-to-be, signs in with the printed password and code."""

import re
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenancy.management.commands.load_demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.fixtures.two_factor import totp_code


def test_the_demo_admin_signs_in_with_the_printed_password_and_code(db):
    printed = StringIO()
    call_command("load_demo", stdout=printed)
    call_command("load_demo", stdout=StringIO())  # idempotent
    assert DEMO_TOTP_SECRET in printed.getvalue()
    assert "manage.py demo_code" in printed.getvalue()

    with time_machine.travel(timezone.now(), tick=False):  # one code's 30 seconds, for sure
        shown = StringIO()
        call_command("demo_code", stdout=shown)
        code = re.search(r"rob@contoso\.test: (\d{6}) ", shown.getvalue()).group(1)
        assert code == totp_code(DEMO_TOTP_SECRET)

        client = Client()
        response = client.post(
            reverse("account_login"), {"login": "rob@contoso.test", "password": DEMO_PASSWORD}
        )
        assert response["Location"] == reverse("mfa_authenticate")
        assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.get(reverse("meetings:list")).status_code == 200
