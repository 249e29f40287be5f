"""Connecting the organisation's identity provider in the admin centre: what Quorum shows to
give the IdP, what it checks of the IdP's details, and what it keeps (the secret sealed)."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import override_settings

from sso.encryption import unseal
from sso.models import SsoConnection
from sso.selectors import connection_of
from tenancy.models import AuditEvent
from tests.fixtures.sso import connect_oidc, enter_address, oidc_sign_in, text_of, visitor
from tests.fixtures.stripe import free_port

pytestmark = pytest.mark.django_db


def admin_client(admin):
    client = visitor()
    client.force_login(admin)
    return client


def start(client, protocol):
    response = client.post("/admin/sso/", {"form": "start", "protocol": protocol})
    assert response["Location"] == "/admin/sso/"
    return SsoConnection.objects.unscoped().get()


def test_starting_shows_the_redirect_uri_to_give_an_oidc_idp(contoso):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    assert "Start connecting" in text_of(client.get("/admin/sso/"))
    connection = start(client, "oidc")
    page = text_of(client.get("/admin/sso/"))
    redirect_uri = f"http://testserver/accounts/oidc/{connection.slug}/login/callback/"
    assert f'<code data-testid="redirect-uri">{redirect_uri}</code>' in page
    assert "not configured yet" in page
    event = AuditEvent.objects.unscoped().get(action="sso.started")
    assert (event.actor, event.after) == (rob, {"protocol": "oidc"})


def test_starting_shows_the_acs_url_entity_id_and_metadata_to_give_a_saml_idp(contoso):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    connection = start(client, "saml")
    page = text_of(client.get("/admin/sso/"))
    acs_url = f"http://testserver/accounts/saml/{connection.slug}/acs/"
    entity_id = f"http://testserver/accounts/saml/{connection.slug}/metadata/"
    assert f'<code data-testid="acs-url">{acs_url}</code>' in page
    assert f'<code data-testid="sp-entity-id">{entity_id}</code>' in page
    metadata = re.search(r'data-testid="sp-metadata">(.*?)</textarea>', page, re.S).group(1)
    assert f'entityID="{entity_id}"' in metadata
    assert f'Location="{acs_url}"' in metadata


def test_oidc_details_are_confirmed_by_discovery_and_the_secret_is_sealed(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    start(client, "oidc")
    secret = "the-client-secret-of-the-idp"
    response = client.post(
        "/admin/sso/",
        {"form": "oidc", "issuer": oidc_idp.issuer, "client_id": "quorum", "client_secret": secret},
    )
    assert response["Location"] == "/admin/sso/"
    connection = connection_of(rob.membership.tenant)
    assert (connection.issuer, connection.client_id) == (oidc_idp.issuer, "quorum")
    assert connection.is_configured and not connection.is_tested
    assert secret not in connection.sealed_client_secret
    assert unseal(connection.sealed_client_secret) == secret
    assert secret not in text_of(client.get("/admin/sso/"))
    event = AuditEvent.objects.unscoped().get(action="sso.configured")
    assert event.after == {
        "issuer": oidc_idp.issuer,
        "client_id": "quorum",
        "token_auth_method": "client_secret_basic",
        "client_secret": "changed",
    }


def test_an_empty_secret_keeps_the_saved_one_and_a_change_needs_a_new_test(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    connection = connect_oidc(rob, oidc_idp)
    sealed = connection.sealed_client_secret
    client = admin_client(rob)
    client.post(
        "/admin/sso/",
        {"form": "oidc", "issuer": oidc_idp.issuer, "client_id": "renamed", "client_secret": ""},
    )
    connection.refresh_from_db()
    assert (connection.client_id, connection.sealed_client_secret) == ("renamed", sealed)
    assert not connection.is_tested


def issuers_that_fail(idp):
    closed = f"http://127.0.0.1:{free_port()}"
    return [
        (closed, f"{closed}/.well-known/openid-configuration could not be read"),
        (f"{idp.issuer}/tenant-x", "/tenant-x/.well-known/openid-configuration could not be read"),
        (idp.issuer.replace("127.0.0.1", "localhost"), f"names the issuer {idp.issuer}"),
        ("ftp://idp.example", "must start with https://"),
    ]


def test_details_the_idp_does_not_confirm_change_nothing(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    start(client, "oidc")
    for issuer, message in issuers_that_fail(oidc_idp):
        response = client.post(
            "/admin/sso/",
            {"form": "oidc", "issuer": issuer, "client_id": "quorum", "client_secret": "s"},
        )
        assert response.status_code == 400, issuer
        assert message in text_of(response), issuer
    assert not connection_of(rob.membership.tenant).is_configured
    assert not AuditEvent.objects.unscoped().filter(action="sso.configured").exists()


@override_settings(SSO_IDP_HTTPS_ONLY=True)
def test_an_idp_outside_https_is_refused_in_production(contoso, oidc_idp):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    start(client, "oidc")
    response = client.post(
        "/admin/sso/",
        {"form": "oidc", "issuer": oidc_idp.issuer, "client_id": "quorum", "client_secret": "s"},
    )
    assert response.status_code == 400
    assert "must start with https://" in text_of(response)


def test_saml_metadata_pasted_as_xml(contoso, saml_idp):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    start(client, "saml")
    response = client.post(
        "/admin/sso/", {"form": "saml", "metadata_url": "", "metadata_xml": saml_idp.metadata()}
    )
    assert response["Location"] == "/admin/sso/"
    connection = connection_of(rob.membership.tenant)
    assert connection.idp_entity_id == f"{saml_idp.base_url}/metadata"
    assert connection.idp_sso_url == f"{saml_idp.base_url}/sso/redirect"
    assert connection.idp_certificate.startswith("MII")


def test_what_is_not_idp_metadata_changes_nothing(contoso, saml_idp):
    rob, _people, _subscription = contoso
    client = admin_client(rob)
    connection = start(client, "saml")
    own_metadata = text_of(client.get("/admin/sso/"))
    own_metadata = re.search(r'testid="sp-metadata">(.*?)</textarea>', own_metadata, re.S)[1]
    cases = [
        ({"metadata_xml": "<not xml"}, "This is not SAML metadata"),
        ({"metadata_xml": own_metadata}, "does not describe an identity provider"),
        ({}, "Give either the metadata URL or the metadata XML."),
        (
            {"metadata_url": saml_idp.metadata_url, "metadata_xml": saml_idp.metadata()},
            "Give either the metadata URL or the metadata XML.",
        ),
        ({"metadata_url": f"{saml_idp.base_url}/nothing-here"}, "could not be read"),
        (
            {"metadata_url": f"{saml_idp.base_url}/moved-metadata"},
            f"redirects to {saml_idp.metadata_url}: enter that address instead.",
        ),
    ]
    for fields, message in cases:
        response = client.post("/admin/sso/", {"form": "saml", **fields})
        assert response.status_code == 400, fields
        assert message in text_of(response), fields
    connection.refresh_from_db()
    assert not connection.is_configured


def test_another_organisations_admin_sees_and_touches_none_of_it(contoso_oidc, fabrikam):
    _rob, _sara, connection = contoso_oidc
    fay, _people, _subscription = fabrikam
    client = admin_client(fay)
    page = text_of(client.get("/admin/sso/"))
    assert connection.slug not in page and "Start connecting" in page
    response = client.post("/admin/sso/", {"form": "remove"}, follow=True)
    assert "Your organisation has no identity provider connected." in text_of(response)
    assert SsoConnection.objects.unscoped().filter(pk=connection.pk).exists()


def test_disconnecting_forgets_the_linked_subjects(contoso_oidc, oidc_idp):
    rob, sara, _connection = contoso_oidc
    oidc_sign_in(visitor(), oidc_idp, "sara@contoso.com", "sara")
    assert SocialAccount.objects.filter(user=sara).exists()
    response = admin_client(rob).post("/admin/sso/", {"form": "remove"})
    assert response["Location"] == "/admin/sso/"
    assert not SocialAccount.objects.exists()
    assert not SsoConnection.objects.unscoped().exists()
    assert AuditEvent.objects.unscoped().filter(action="sso.removed").count() == 1
    assert enter_address(visitor(), "sara@contoso.com")["Location"].startswith(
        "/accounts/login/?password"
    )
