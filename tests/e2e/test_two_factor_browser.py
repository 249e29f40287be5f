"""Admins sign in like admins, in Chromium: an authenticator app (codes computed from the secret
the page shows), recovery codes, a passkey on Chromium's virtual authenticator, re-authentication
before a removal, and a removed member's live session ending."""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from tenancy.models import AuditEvent, Membership
from tests.fixtures.purchases import managed_tenant
from tests.fixtures.two_factor import totp_code

from .journeys import (
    assert_accessible,
    enrol_authenticator_app,
    enter_code,
    reauthenticate,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_OR_REUSED = "This code is wrong or was already used."


@pytest.fixture
def rob_without_second_factor(localstripe):
    """contoso.test's admin before he set up any second factor, and his member Sara."""
    rob, (sara,), _subscription = managed_tenant(localstripe, "contoso.test")
    Authenticator.objects.filter(user=rob).delete()
    return rob, sara


def sign_out(page):
    page.locator(".user-menu summary").click()
    page.locator(".user-menu button", has_text="Sign out").click()
    page.wait_for_url(re.compile(r"/$"))


def start_sign_in(page, email):
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("main form button[type=submit]").first.click()  # the address step
    page.locator("input[name=password]").fill("correct-horse-battery-staple")
    page.locator("main form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/$"))


def test_an_admin_enrols_an_authenticator_app_then_signs_in_with_codes(
    new_page, live_server, rob_without_second_factor
):
    page = new_page()
    sign_in(page, "rob@contoso.test")
    page.goto("/admin/users/")
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    expect(page.locator(".messages")).to_contain_text("Admins sign in with a second factor.")

    secret = enrol_authenticator_app(page)
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes")
    page.goto("/admin/users/")
    expect(page.locator("h1")).to_have_text("Active users")
    sign_out(page)

    # A wrong code is refused; the app's code lets him in.
    start_sign_in(page, "rob@contoso.test")
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    enter_code(page, wrong)
    expect(page.locator("main")).to_contain_text(WRONG_OR_REUSED)
    assert_accessible(page)
    code = totp_code(secret)
    enter_code(page, code)
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/admin/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    sign_out(page)

    # The same code, again: refused.
    start_sign_in(page, "rob@contoso.test")
    enter_code(page, code)
    expect(page.locator("main")).to_contain_text(WRONG_OR_REUSED)

    # A recovery code works once.
    enter_code(page, codes[0])
    page.wait_for_url(re.compile(r"/$"))
    sign_out(page)
    start_sign_in(page, "rob@contoso.test")
    enter_code(page, codes[0])
    expect(page.locator("main")).to_contain_text(WRONG_OR_REUSED)

    actions = list(AuditEvent.objects.unscoped().values_list("action", flat=True))
    assert actions.count("user.signed_in") == 3  # before enrolling, with a code, a recovery code
    assert actions.count("user.recovery_code_used") == 1
    assert actions.count("user.second_factor_refused") == 3
    assert {"user.second_factor_added"} <= set(actions)


def add_virtual_authenticator(page):
    """Chromium's virtual WebAuthn authenticator, a platform passkey provider with a verified
    user, for this page (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def test_an_admin_registers_a_passkey_and_signs_in_with_it_without_a_password(
    new_page, live_server, rob_without_second_factor
):
    rob, _sara = rob_without_second_factor
    page = new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    add_virtual_authenticator(page)
    sign_in(page, "rob@contoso.test")
    page.goto("/admin/")
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    page.locator("main a[href$='/accounts/2fa/webauthn/add/']").click()
    reauthenticate(page)
    page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/$"))
    assert_accessible(page)
    page.get_by_label("Passwordless").check()
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    passkey = Authenticator.objects.get(user=rob, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().is_passwordless is True
    page.goto("/admin/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    sign_out(page)

    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(".user-menu summary")).to_have_text("Rob Martin")
    page.goto("/admin/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    assert [p for p in problems if "Content Security Policy" in p] == []
    signed_in = AuditEvent.objects.unscoped().filter(action="user.signed_in", actor=rob)
    assert signed_in.count() == 2


def test_removing_a_member_signs_them_out_at_their_next_request(new_page, live_server, localstripe):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    _rob, (sara,), _subscription = managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    sara_page = new_page()
    sign_in(sara_page, "sara@contoso.test")
    sara_page.goto("/meetings/")
    expect(sara_page.locator("h1")).to_be_visible()

    rob_page = new_page()
    sign_in(rob_page, "rob@contoso.test", totp_secret=secret)
    rob_page.goto("/admin/users/")
    row = rob_page.locator("tr[data-email='sara@contoso.test']")
    row.get_by_role("button", name="Remove").click()
    # Removing someone asks for the password again (the sign-in does not count), then happens.
    reauthenticate(rob_page)
    expect(rob_page.locator(".messages")).to_contain_text(
        "sara@contoso.test was removed from your organisation."
    )
    assert not Membership.objects.unscoped().filter(user=sara).exists()

    sara_page.goto("/meetings/")
    sara_page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(sara_page.locator("input[name=login]")).to_be_visible()
