"""Connecting contoso.com's identity provider (the real oidc-provider or pysaml2 IdP of the
fixtures) and signing in through it with the Django test client."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, RequestFactory

from sso import services, signin
from sso.models import SsoConnection
from tests.fixtures.oidc import path_of

HOST = "testserver"


def visitor(language: str = "en") -> Client:
    """A browser without a browser: allauth's SAML code reads the Host header browsers send."""
    return Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE=language)


def connect_oidc(admin, idp, *, tested: bool = True) -> SsoConnection:
    """Rob connects the IdP the way the admin centre does: start, register Quorum's redirect URI
    at the IdP, save its issuer and client, and (unless `tested=False`) prove it."""
    tenant = admin.membership.tenant
    connection = services.start_connection(tenant=tenant, actor=admin, protocol="oidc")
    redirect_uri = signin.for_the_idp(RequestFactory().get("/"), connection).redirect_uri
    client_id, secret = idp.register_client(redirect_uri)
    connection = services.save_oidc_details(
        tenant=tenant, actor=admin, issuer=idp.issuer, client_id=client_id, client_secret=secret
    )
    if tested:
        connection = services.record_test_sign_in(
            connection=connection, actor=admin, email=admin.email
        )
    return connection


def connect_saml(admin, idp, *, tested: bool = True) -> SsoConnection:
    """The same with SAML: Quorum's SP metadata registered at the IdP, the IdP's metadata URL
    saved in Quorum."""
    tenant = admin.membership.tenant
    connection = services.start_connection(tenant=tenant, actor=admin, protocol="saml")
    idp.trust(signin.for_the_idp(RequestFactory().get("/"), connection).sp_metadata)
    connection = services.save_saml_details(
        tenant=tenant, actor=admin, metadata_url=idp.metadata_url, metadata_xml=""
    )
    if tested:
        connection = services.record_test_sign_in(
            connection=connection, actor=admin, email=admin.email
        )
    return connection


def enter_address(client: Client, email: str):
    """The sign-in page's first step."""
    return client.post("/accounts/login/", {"step": "address", "login": email})


def idp_url_of(response) -> str:
    """Where the page that starts a sign-in sends the browser on (at once, by a link)."""
    assert response.status_code == 200, response.content
    link = re.search(r'<a [^>]*data-testid="idp-link"[^>]*>', response.text)[0]
    return unescape(re.search(r'href="([^"]+)"', link)[1])


def oidc_sign_in(client: Client, idp, email: str, login: str):
    """The address, the IdP's login form as `login`, and Quorum's answer to the callback."""
    url = idp_url_of(enter_address(client, email))
    assert url.startswith(idp.issuer)
    return client.get(path_of(idp.sign_in(url, login)))


def saml_request_of(response) -> tuple[str, str]:
    """The AuthnRequest and RelayState of Quorum's link to the SAML IdP."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(idp_url_of(response)).query).items()}
    return query["SAMLRequest"], query.get("RelayState", "")


def post_to_quorum(client: Client, answer):
    """The browser posts the IdP's answer to the ACS URL and follows allauth to its end."""
    response = client.post(urlsplit(answer.acs_url).path, answer.form)
    assert response.status_code == 302, response.content
    return client.get(response["Location"])


def saml_sign_in(client: Client, idp, email: str, login: str, **crafted):
    response = enter_address(client, email)
    assert idp_url_of(response).startswith(idp.base_url)
    return post_to_quorum(client, idp.answer(*saml_request_of(response), login, **crafted))


def signed_in_id(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id is not None else None


@pytest.fixture
def contoso_oidc(contoso, oidc_idp):
    """contoso.com (Rob the admin, Sara) with its OpenID Connect IdP connected and tested; the
    IdP knows Rob and Sara."""
    rob, (sara,), _subscription = contoso
    oidc_idp.add_person("rob", email="rob@contoso.com", name="Rob Martin")
    oidc_idp.add_person("sara", email="sara@contoso.com", name="Sara Lefèvre")
    return rob, sara, connect_oidc(rob, oidc_idp)


@pytest.fixture
def contoso_saml(contoso, saml_idp):
    """The same with contoso.com's SAML IdP."""
    rob, (sara,), _subscription = contoso
    saml_idp.add_person("rob", email="rob@contoso.com", name="Rob Martin")
    saml_idp.add_person("sara", email="sara@contoso.com", name="Sara Lefèvre")
    return rob, sara, connect_saml(rob, saml_idp)
