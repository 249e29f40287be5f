"""Single sign-on in Debian's Chromium, in English and in French, with each protocol against its
real identity provider on loopback (the certified oidc-provider, pysaml2's IdP): the admin
connects the IdP, tests it and enforces it (re-authenticating); a member signs in through the
IdP; a newcomer gets their account there (just in time); the IdP vouching for an address at
another domain signs nobody in; a member's password is refused."""

import re

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import expect

from sso.models import SsoConnection
from tenancy.models import AuditEvent, Membership, User
from tests.factories import PASSWORD
from tests.fixtures.purchases import managed_tenant
from tests.fixtures.saml_idp import PASSWORD as IDP_PASSWORD

from .journeys import assert_accessible, assert_french, english_strings, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "locale": "en-GB",
        "nav": "Single sign-on",
        "saved": "Saved. Now test the sign-in.",
        "tested": "The test sign-in worked",
        "enforced": "Single sign-on is now enforced.",
        "refused": "contoso.test signs in through its identity provider",
        "welcome": "Welcome, ",
    },
    "fr": {
        "locale": "fr-FR",
        "nav": "Authentification unique",
        "saved": "Enregistré. Testez maintenant la connexion.",
        "tested": "La connexion de test a réussi",
        "enforced": "L’authentification unique est désormais imposée.",
        "refused": "contoso.test se connecte par son fournisseur d’identité",
        "welcome": "Bienvenue, ",
    },
}


class Checks:
    """Every page of ours in the journey: accessible, and in French when the journey is."""

    def __init__(self, language):
        self.english = english_strings() if language == "fr" else None

    def __call__(self, page):
        assert_accessible(page)
        if self.english is not None:
            assert_french(page, self.english)


def connect(page, protocol, *, oidc_idp, saml_idp):
    """Steps 1 and 2 of the admin centre's page: choose the protocol, give the IdP Quorum's
    values (the test plays the IdP's admin), save the IdP's details."""
    page.locator(f"input[name=protocol][value={protocol}]").check()
    page.locator("form:has(input[name=form][value=start]) button").click()
    if protocol == "oidc":
        redirect_uri = page.get_by_test_id("redirect-uri").text_content()
        client_id, secret = oidc_idp.register_client(redirect_uri)
        page.locator("input[name=issuer]").fill(oidc_idp.issuer)
        page.locator("input[name=client_id]").fill(client_id)
        page.locator("input[name=client_secret]").fill(secret)
        page.locator("form:has(input[name=form][value=oidc]) button").click()
    else:
        saml_idp.trust(page.get_by_test_id("sp-metadata").input_value())
        page.locator("input[name=metadata_url]").fill(saml_idp.metadata_url)
        page.locator("form:has(input[name=form][value=saml]) button").click()


def sign_in_at_idp(page, protocol, login):
    """The IdP's own sign-in form (oidc-provider's development form; the test SAML IdP's)."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(IDP_PASSWORD)
    page.locator("form button[type=submit]").click()


def through_the_idp(page, protocol, *, email, login):
    """The sign-in page's first step, then the IdP, then back at Quorum."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.get_by_test_id("address-step").locator("button").click()
    sign_in_at_idp(page, protocol, login)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_connect_test_enforce_then_members_and_newcomers_sign_in_through_the_idp(
    new_page, live_server, localstripe, oidc_idp, saml_idp, protocol, language
):
    texts, check = TEXTS[language], Checks(language)
    secret = generate_totp_secret()
    managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    idp = oidc_idp if protocol == "oidc" else saml_idp
    for login, name in (("rob", "Rob Martin"), ("sara", "Sara Lefèvre"), ("nina", "Nina Keller")):
        idp.add_person(login, email=f"{login}@contoso.test", name=name)
    idp.add_person("mallory", email="mallory@fabrikam.test", name="Mallory")

    rob = new_page(locale=texts["locale"])
    sign_in(rob, "rob@contoso.test", totp_secret=secret)
    rob.goto("/admin/")
    rob.get_by_role("link", name=texts["nav"]).click()
    rob.wait_for_url(re.compile(r"/admin/sso/$"))
    check(rob)
    connect(rob, protocol, oidc_idp=oidc_idp, saml_idp=saml_idp)
    expect(rob.locator(".messages")).to_contain_text(texts["saved"])
    check(rob)

    # The test sign-in: Rob at the IdP, and back, still himself.
    rob.locator("form[action$='/admin/sso/test/'] button").click()
    sign_in_at_idp(rob, protocol, "rob")
    rob.wait_for_url(re.compile(r"/admin/sso/$"))
    expect(rob.locator(".messages")).to_contain_text(texts["tested"])
    expect(rob.get_by_test_id("sso-tested")).to_contain_text("rob@contoso.test")

    # Enforcing asks for Rob's password again.
    rob.locator("form[action$='/admin/sso/enforce/'] button").click()
    rob.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    rob.locator("input[name=password]").fill(PASSWORD)
    rob.locator("main form button[type=submit]").click()
    rob.wait_for_url(re.compile(r"/admin/sso/$"))
    expect(rob.locator(".messages")).to_contain_text(texts["enforced"])
    expect(rob.get_by_test_id("break-glass-admins")).to_contain_text("rob@contoso.test")
    check(rob)
    assert SsoConnection.objects.unscoped().get().is_enforced

    sara = new_page(locale=texts["locale"])
    sara.goto("/accounts/login/")
    check(sara)
    through_the_idp(sara, protocol, email="sara@contoso.test", login="sara")
    sara.wait_for_url(re.compile(r"/$"))
    expect(sara.locator("h1")).to_contain_text(texts["welcome"] + "Sara")

    nina = new_page(locale=texts["locale"])
    through_the_idp(nina, protocol, email="nina@contoso.test", login="nina")
    nina.wait_for_url(re.compile(r"/$"))
    expect(nina.locator("h1")).to_contain_text(texts["welcome"] + "Nina Keller")
    newcomer = User.objects.get(email="nina@contoso.test")
    assert Membership.objects.unscoped().get(user=newcomer).tenant.domain == "contoso.test"

    # contoso.test's IdP vouching for an address elsewhere signs nobody in; the page says why.
    stranger = new_page(locale=texts["locale"])
    through_the_idp(stranger, protocol, email="sara@contoso.test", login="mallory")
    expect(stranger.get_by_test_id("sso-failure")).to_contain_text("mallory@fabrikam.test")
    check(stranger)
    assert not User.objects.filter(email="mallory@fabrikam.test").exists()

    # Sara's password no longer opens Quorum; the page says why, in her language.
    password = new_page(locale=texts["locale"])
    password.goto("/accounts/login/?password")
    password.locator("input[name=login]").fill("sara@contoso.test")
    password.locator("input[name=password]").fill(PASSWORD)
    password.locator("main form button[type=submit]").last.click()
    expect(password.locator("main")).to_contain_text(texts["refused"])
    check(password)

    actions = set(AuditEvent.objects.unscoped().values_list("action", flat=True))
    assert {"sso.started", "sso.configured", "sso.tested", "sso.enforced"} <= actions
    assert "sso.sign_in_failed" in actions
