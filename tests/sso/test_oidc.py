"""Signing in through an OpenID Connect IdP: the certified oidc-provider (npm), on loopback."""

from datetime import timedelta

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.test import override_settings
from django.utils import timezone

from sso.failures import Reason
from sso.selectors import connection_of
from tenancy.models import AuditEvent, JoinRequest, Membership, Tenant, User
from tenancy.services.membership import set_signup_mode
from tests.fixtures.oidc import path_of, start_oidc_provider
from tests.fixtures.sso import (
    connect_oidc,
    enter_address,
    explanation,
    idp_url_of,
    oidc_sign_in,
    sign_in_failures,
    signed_in_id,
    text_of,
    visitor,
)

pytestmark = pytest.mark.django_db


def test_a_member_is_sent_to_the_idp_and_signed_in(contoso_oidc, oidc_idp):
    _rob, sara, connection = contoso_oidc
    client = visitor()
    response = oidc_sign_in(client, oidc_idp, "sara@contoso.com", "sara")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in_id(client) == sara.pk
    # From now on Sara is known by the IdP's subject, not by her address.
    account = SocialAccount.objects.get(user=sara)
    assert (account.provider, account.uid) == (connection.slug, "sara")


def test_the_address_step_asks_the_idp_with_a_nonce_and_pkce(contoso_oidc, oidc_idp):
    response = enter_address(visitor(), "Sara@Contoso.com")
    assert 'http-equiv="refresh"' in text_of(response)
    assert response["Cache-Control"].startswith("max-age=0")
    location = idp_url_of(response)
    assert location.startswith(f"{oidc_idp.issuer}/auth?")
    for parameter in ("nonce=", "code_challenge=", "state=", "login_hint=sara%40contoso.com"):
        assert parameter in location


def test_an_address_without_single_sign_on_goes_to_the_password_step(contoso_oidc):
    client = visitor()
    response = enter_address(client, "ann@tailspin.com")
    assert response["Location"] == "/accounts/login/?password=&login=ann%40tailspin.com"
    page = client.get(response["Location"])
    assert b'name="password"' in page.content
    assert b'value="ann@tailspin.com"' in page.content


def test_an_untested_connection_sends_nobody_to_the_idp(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    connect_oidc(rob, oidc_idp, tested=False)
    response = enter_address(visitor(), "sara@contoso.com")
    assert response["Location"].startswith("/accounts/login/?password")


@pytest.mark.parametrize("mode", list(Tenant.SignupMode))
def test_a_new_person_joins_just_in_time_per_the_signup_rule(contoso_oidc, oidc_idp, mode):
    rob, _sara, _connection = contoso_oidc
    set_signup_mode(tenant=rob.membership.tenant, actor=rob, mode=mode)
    oidc_idp.add_person("nina", email="nina@contoso.com", name="Nina Keller")
    client = visitor()
    response = oidc_sign_in(client, oidc_idp, "nina@contoso.com", "nina")
    nina = User.objects.get(email="nina@contoso.com")
    assert (response.status_code, signed_in_id(client)) == (302, nina.pk)
    assert nina.name == "Nina Keller"
    assert not nina.has_usable_password()
    assert nina.emailaddress_set.get().verified
    member = Membership.objects.unscoped().filter(user=nina, tenant=rob.membership.tenant)
    assert member.exists() == (mode == Tenant.SignupMode.LICENCE_IF_FREE)
    assert JoinRequest.objects.unscoped().filter(user=nina).exists() == (
        mode == Tenant.SignupMode.APPROVAL
    )


def test_an_address_changed_at_the_idp_keeps_the_account(contoso_oidc, oidc_idp):
    _rob, sara, _connection = contoso_oidc
    oidc_sign_in(visitor(), oidc_idp, "sara@contoso.com", "sara")
    oidc_idp.add_person("sara", email="sara.lefevre@contoso.com", name="Sara Lefèvre")
    client = visitor()
    oidc_sign_in(client, oidc_idp, "sara.lefevre@contoso.com", "sara")
    assert signed_in_id(client) == sara.pk
    sara.refresh_from_db()
    assert sara.email == "sara.lefevre@contoso.com"
    assert list(sara.emailaddress_set.values_list("email", "verified")) == [
        ("sara.lefevre@contoso.com", True)
    ]
    assert Membership.objects.unscoped().get(user=sara).role == Membership.Role.MEMBER
    event = AuditEvent.objects.unscoped().get(action="sso.address_changed")
    assert (event.before, event.after) == (
        {"email": "sara@contoso.com"},
        {"email": "sara.lefevre@contoso.com"},
    )


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("address", "reason"),
    [("sara@fabrikam.com", Reason.UNTRUSTED_ADDRESS), ("sara@gmail.com", Reason.NO_ADDRESS)],
)
def test_the_idp_is_trusted_for_the_tenants_verified_domains_only(
    contoso_oidc, oidc_idp, address, reason, language
):
    """contoso.com's IdP says Sara is someone at another domain: nobody is signed in, no account
    is made or taken over."""
    _rob, sara, _connection = contoso_oidc
    victim = User.objects.create_user(email="sara@fabrikam.com", name="Other Sara")
    oidc_idp.add_person("sara", email=address, name="Sara")
    users = User.objects.count()
    client = visitor(language)
    response = oidc_sign_in(client, oidc_idp, "sara@contoso.com", "sara")
    assert response.status_code == 400
    expected = explanation(reason, language, email=address, organisation="contoso.com")
    assert expected in text_of(response)
    assert signed_in_id(client) is None
    assert User.objects.count() == users
    assert not SocialAccount.objects.filter(user__in=[sara, victim]).exists()
    assert sign_in_failures() == [reason]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_idp_that_is_down(contoso, tmp_path, language):
    rob, _people, _subscription = contoso
    idp = start_oidc_provider(tmp_path)
    connect_oidc(rob, idp)
    idp.stop()
    client = visitor(language)
    response = enter_address(client, "sara@contoso.com")
    assert response.status_code == 400
    assert explanation(Reason.UNREACHABLE, language) in text_of(response)
    assert signed_in_id(client) is None
    assert sign_in_failures() == [Reason.UNREACHABLE]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-application"}, Reason.WRONG_AUDIENCE),
        ({"nonce": "a-nonce-of-another-sign-in"}, Reason.BAD_NONCE),
    ],
)
def test_an_id_token_that_is_not_for_this_sign_in_is_refused(
    contoso_oidc, oidc_idp, claims, reason, language
):
    oidc_idp.misbehave(**claims)
    client = visitor(language)
    response = oidc_sign_in(client, oidc_idp, "sara@contoso.com", "sara")
    assert response.status_code == 400
    assert explanation(reason, language) in text_of(response)
    assert signed_in_id(client) is None
    assert not SocialAccount.objects.exists()
    assert sign_in_failures() == [reason]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_answer_to_a_sign_in_started_elsewhere_is_refused(contoso_oidc, oidc_idp, language):
    """The callback reaches a browser that never started this sign-in (a forged or replayed
    link): its state is unknown here."""
    started = visitor()
    back = oidc_idp.sign_in(idp_url_of(enter_address(started, "sara@contoso.com")), "sara")
    other = visitor(language)
    response = other.get(path_of(back))
    assert response.status_code == 400
    assert explanation(Reason.BAD_STATE, language) in text_of(response)
    assert signed_in_id(other) is None
    assert sign_in_failures() == [Reason.BAD_STATE]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    ("quorum_clock", "reason"),
    [(timedelta(minutes=-10), Reason.NOT_YET_VALID), (timedelta(hours=2), Reason.EXPIRED)],
    ids=["quorum-10-minutes-behind", "quorum-2-hours-ahead"],
)
def test_a_clock_skew_beyond_the_allowed_is_refused(
    contoso_oidc, oidc_idp, quorum_clock, reason, language
):
    client = visitor(language)
    # Quorum's clock only: the browser's cookies at the IdP keep the real time.
    with time_machine.travel(timezone.now() + quorum_clock, tick=True):
        response = enter_address(client, "sara@contoso.com")
    back = oidc_idp.sign_in(idp_url_of(response), "sara")
    with time_machine.travel(timezone.now() + quorum_clock, tick=True):
        response = client.get(path_of(back))
    assert response.status_code == 400
    assert explanation(reason, language) in text_of(response)
    assert signed_in_id(client) is None
    assert sign_in_failures() == [reason]


def test_the_test_sign_in_proves_the_connection_and_signs_nobody_in(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    oidc_idp.add_person("rob", email="rob@contoso.com", name="Rob Martin")
    connect_oidc(rob, oidc_idp, tested=False)
    client = visitor()
    client.force_login(rob)
    url = idp_url_of(client.post("/admin/sso/test/"))
    assert url.startswith(oidc_idp.issuer)
    response = client.get(path_of(oidc_idp.sign_in(url, "rob")))
    assert response["Location"] == "/admin/sso/"
    connection = connection_of(rob.membership.tenant)
    assert (connection.tested_by, connection.tested_as) == (rob, "rob@contoso.com")
    assert signed_in_id(client) == rob.pk
    assert not SocialAccount.objects.exists()
    page = client.get("/admin/sso/")
    assert "The test sign-in worked" in page.content.decode()
    assert AuditEvent.objects.unscoped().filter(action="sso.tested", actor=rob).count() == 1


def test_a_failed_test_sign_in_is_recorded_and_proves_nothing(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    oidc_idp.add_person("rob", email="rob@fabrikam.com", name="Rob Martin")
    connect_oidc(rob, oidc_idp, tested=False)
    client = visitor()
    client.force_login(rob)
    url = idp_url_of(client.post("/admin/sso/test/"))
    response = client.get(path_of(oidc_idp.sign_in(url, "rob")))
    assert response.status_code == 400
    assert b'href="/admin/sso/"' in response.content
    assert not connection_of(rob.membership.tenant).is_tested
    event = AuditEvent.objects.unscoped().get(action="sso.test_failed")
    assert (event.actor, event.after["reason"]) == (rob, Reason.UNTRUSTED_ADDRESS)


@override_settings(SSO_ENCRYPTION_KEYS=["bmV3LWtleS1ub3QtdGhlLW9uZS10aGF0LXNlYWxlZCE="])
def test_a_secret_no_key_opens_is_a_clear_refusal(contoso_oidc):
    """The keys were replaced without keeping the old one: the sign-in page says so."""
    client = visitor()
    response = enter_address(client, "sara@contoso.com")
    assert response["Location"] == "/accounts/login/"
    assert "enter the client secret again" in text_of(client.get("/accounts/login/"))
    assert signed_in_id(client) is None


def test_the_address_step_is_rate_limited(contoso_oidc, oidc_idp):
    """Each address at a domain with an OpenID Connect IdP makes Quorum read its discovery
    document: one address after another from one place is held back, not relayed to the IdP."""
    client = visitor()
    statuses = [enter_address(client, "sara@contoso.com").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [("/meetings/", "/meetings/"), ("https://evil.example/", "/")],
    ids=["on-site", "off-site-ignored"],
)
def test_the_page_asked_for_comes_after_the_idp(contoso_oidc, oidc_idp, next_url, landing):
    client = visitor()
    response = client.post(
        "/accounts/login/", {"step": "address", "login": "sara@contoso.com", "next": next_url}
    )
    response = client.get(path_of(oidc_idp.sign_in(idp_url_of(response), "sara")))
    assert response["Location"] == landing


def test_an_address_that_is_not_one_is_a_form_error(contoso_oidc):
    response = enter_address(visitor(), "not an address")
    assert response.status_code == 400
    assert "Enter a valid email address." in text_of(response)
