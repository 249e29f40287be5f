"""Signing in through a SAML IdP: pysaml2's IdP with signed assertions, on loopback; and the
answers a broken or hostile IdP sends, crafted with the same IdP code."""

from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from sso.failures import Reason
from tenancy.models import Membership, User
from tests.fixtures.sso import (
    enter_address,
    explanation,
    post_to_quorum,
    saml_request_of,
    saml_sign_in,
    sign_in_failures,
    signed_in_id,
    text_of,
    visitor,
)

pytestmark = pytest.mark.django_db


def test_a_member_is_sent_to_the_idp_and_signed_in(contoso_saml, saml_idp):
    _rob, sara, connection = contoso_saml
    client = visitor()
    response = saml_sign_in(client, saml_idp, "sara@contoso.com", "sara")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in_id(client) == sara.pk
    account = SocialAccount.objects.get(user=sara)
    assert (account.provider, account.uid) == (connection.slug, "idp-sara")


def test_a_new_person_joins_just_in_time(contoso_saml, saml_idp):
    rob, _sara, _connection = contoso_saml
    saml_idp.add_person("nina", email="Nina@Contoso.com", name="Nina Keller")
    client = visitor()
    saml_sign_in(client, saml_idp, "nina@contoso.com", "nina")
    nina = User.objects.get(email="nina@contoso.com")
    assert signed_in_id(client) == nina.pk
    assert nina.name == "Nina Keller"
    assert Membership.objects.unscoped().get(user=nina).tenant == rob.membership.tenant


def test_an_address_changed_at_the_idp_keeps_the_account(contoso_saml, saml_idp):
    _rob, sara, _connection = contoso_saml
    saml_sign_in(visitor(), saml_idp, "sara@contoso.com", "sara")
    saml_idp.add_person("sara", email="sara.lefevre@contoso.com", name="Sara Lefèvre")
    client = visitor()
    saml_sign_in(client, saml_idp, "sara.lefevre@contoso.com", "sara")
    assert signed_in_id(client) == sara.pk
    sara.refresh_from_db()
    assert sara.email == "sara.lefevre@contoso.com"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_idp_is_trusted_for_the_tenants_verified_domains_only(contoso_saml, saml_idp, language):
    saml_idp.add_person("sara", email="sara@fabrikam.com", name="Sara")
    users = User.objects.count()
    client = visitor(language)
    response = saml_sign_in(client, saml_idp, "sara@contoso.com", "sara")
    assert response.status_code == 400
    expected = explanation(
        Reason.UNTRUSTED_ADDRESS, language, email="sara@fabrikam.com", organisation="contoso.com"
    )
    assert expected in text_of(response)
    assert (signed_in_id(client), User.objects.count()) == (None, users)
    assert sign_in_failures() == [Reason.UNTRUSTED_ADDRESS]


def _now():
    return timezone.now()


CRAFTED = {
    "expired": ({"issued": lambda: _now() - timedelta(hours=1)}, Reason.EXPIRED),
    "issued-10-minutes-ahead": (
        {"issued": lambda: _now() + timedelta(minutes=10)},
        Reason.NOT_YET_VALID,
    ),
    "unsigned": ({"sign_assertion": False}, Reason.UNSIGNED),
    "wrong-audience": ({"audience": "https://another-app.example/saml/"}, Reason.WRONG_AUDIENCE),
}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_broken_answer_signs_nobody_in(contoso_saml, saml_idp, case, language):
    crafted, reason = CRAFTED[case]
    crafted = {key: value() if callable(value) else value for key, value in crafted.items()}
    client = visitor(language)
    response = saml_sign_in(client, saml_idp, "sara@contoso.com", "sara", **crafted)
    assert response.status_code == 400
    assert explanation(reason, language) in text_of(response)
    assert signed_in_id(client) is None
    assert not SocialAccount.objects.exists()
    assert sign_in_failures() == [reason]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("where", ["same-browser", "another-browser"])
def test_a_replayed_answer_signs_nobody_in(contoso_saml, saml_idp, where, language):
    """An answer captured on its way (or posted twice) is refused: it answers a request this
    browser no longer has pending, or never had."""
    _rob, sara, _connection = contoso_saml
    client = visitor(language)
    answer = saml_idp.answer(*saml_request_of(enter_address(client, "sara@contoso.com")), "sara")
    assert post_to_quorum(client, answer).status_code == 302
    assert signed_in_id(client) == sara.pk
    replayer = client if where == "same-browser" else visitor(language)
    if where == "same-browser":
        client.logout()
    response = post_to_quorum(replayer, answer)
    assert response.status_code == 400
    assert explanation(Reason.REPLAYED, language) in text_of(response)
    assert signed_in_id(replayer) is None
    assert sign_in_failures() == [Reason.REPLAYED]


def test_an_unsolicited_answer_signs_nobody_in(contoso_saml, saml_idp):
    """IdP-initiated sign-in is off: an answer to no request of Quorum's is refused."""
    client = visitor()
    request = saml_request_of(enter_address(client, "sara@contoso.com"))
    response = post_to_quorum(visitor(), saml_idp.answer(*request, "sara", unsolicited=True))
    assert response.status_code == 400
    assert signed_in_id(client) is None
    assert sign_in_failures() == [Reason.REFUSED]
