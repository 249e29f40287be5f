"""Reading an identity provider's published description when an admin connects it: the OpenID
Connect discovery document and SAML metadata. The one module that fetches from an IdP itself;
sign-ins go through allauth's providers."""

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.utils.translation import gettext as _
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from .exceptions import SsoError

WELL_KNOWN = "/.well-known/openid-configuration"
DISCOVERY_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
MAX_SAML_METADATA_LENGTH = 1_000_000
BASIC, POST = "client_secret_basic", "client_secret_post"


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


def check_idp_url(url: str) -> None:
    """An address Quorum fetches from or sends people to must be https (outside development)."""
    scheme = urlsplit(url).scheme
    if scheme != "https" and (settings.SSO_IDP_HTTPS_ONLY or scheme != "http"):
        raise SsoError(
            _("The identity provider's address must start with https://: %(url)s") % {"url": url}
        )


def _fetch(url: str) -> requests.Response:
    check_idp_url(url)
    try:
        with get_adapter().get_requests_session() as session:
            # Not followed: the address Quorum reads from is the one the admin checked.
            response = session.get(url, allow_redirects=False)
            response.raise_for_status()
    except requests.RequestException as error:
        raise SsoError(
            _("%(url)s could not be read: %(reason)s") % {"url": url, "reason": error}
        ) from error
    if response.is_redirect:
        raise SsoError(
            _("%(url)s redirects to %(location)s: enter that address instead.")
            % {"url": url, "location": response.headers.get("Location", "")}
        )
    if len(response.content) > MAX_SAML_METADATA_LENGTH:
        raise SsoError(_("%(url)s is too large to be an IdP's description.") % {"url": url})
    return response


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    # How Quorum authenticates at the token endpoint: HTTP Basic, OpenID Connect's default that
    # Entra, Okta and Google accept (Okta and strict servers hold a client to it), unless the
    # IdP only takes the secret in the request body.
    token_auth_method: str


def discovered(issuer: str) -> OidcProvider:
    """The IdP as its discovery document describes it, once that document was read, names this
    issuer and the endpoints a sign-in needs; refused otherwise (a typo, a tenant-less Entra
    URL, …)."""
    url = discovery_url(issuer)
    try:
        document = _fetch(url).json()
    except ValueError as error:
        raise SsoError(
            _("%(url)s is not an OpenID Connect discovery document.") % {"url": url}
        ) from error
    if not isinstance(document, dict) or not all(document.get(f) for f in DISCOVERY_FIELDS):
        raise SsoError(_("%(url)s is not an OpenID Connect discovery document.") % {"url": url})
    named = str(document["issuer"])
    if named.rstrip("/") != issuer.rstrip("/"):
        raise SsoError(
            _("The discovery document names the issuer %(named)s: enter that one exactly.")
            % {"named": named}
        )
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        check_idp_url(str(document[endpoint]))
    methods = document.get("token_endpoint_auth_methods_supported") or [BASIC]
    return OidcProvider(issuer=named, token_auth_method=BASIC if BASIC in methods else POST)


@dataclass(frozen=True)
class SamlIdentityProvider:
    entity_id: str
    sso_url: str
    certificate: str


def saml_metadata_from(*, url: str = "", xml: str = "") -> SamlIdentityProvider:
    """The entity ID, sign-in URL (HTTP-Redirect binding) and signing certificate that SAML
    metadata publishes, from its URL or its XML; refused when one of them is missing."""
    if url:
        xml = _fetch(url).text
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml).get("idp", {})
    except Exception as error:  # lxml's and defusedxml's refusals of what is not XML
        raise SsoError(_("This is not SAML metadata: %(reason)s") % {"reason": error}) from error
    certificates = parsed.get("x509certMulti", {}).get("signing") or [parsed.get("x509cert")]
    entity_id = parsed.get("entityId", "")
    sso_url = parsed.get("singleSignOnService", {}).get("url", "")
    if not (entity_id and sso_url and certificates[0]):
        raise SsoError(
            _(
                "This metadata does not describe an identity provider with an entity ID, a "
                "sign-in URL for the HTTP-Redirect binding and a signing certificate."
            )
        )
    check_idp_url(sso_url)
    return SamlIdentityProvider(entity_id=entity_id, sso_url=sso_url, certificate=certificates[0])
