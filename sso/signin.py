"""Signing in through a tenant's identity provider with allauth's own providers
(`openid_connect`, `saml`): the app allauth is given for a connection, starting a sign-in or a
test, and the checks on what the IdP answered before anyone is signed in."""

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

import requests
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.saml.utils import build_sp_config
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from core.tokens import new_token
from tenancy.email_domains import domain_of_email
from tenancy.exceptions import InvalidDomainError
from tenancy.models import Membership, User
from tenancy.selectors import membership_of

from . import services
from .encryption import unseal
from .failures import Reason, sign_in_failed
from .idp import discovery_url
from .models import SsoConnection
from .selectors import connection_by_slug, verified_domains_of

# Where the IdP's SAML attributes are looked for, by what Quorum needs (first found wins): the
# names of the SAML attribute profiles and those Microsoft Entra, Okta and Google send.
SAML_ATTRIBUTES = {
    "uid": [
        "urn:oasis:names:tc:SAML:attribute:subject-id",
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
    ],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email",
        "mail",
    ],
    "name": [
        "urn:oid:2.16.840.1.113730.3.1.241",
        "http://schemas.microsoft.com/identity/claims/displayname",
        "displayName",
        "name",
    ],
    "first_name": [
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "firstName",
    ],
    "last_name": [
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "lastName",
    ],
}

# How far the IdP's clock may be ahead of Quorum's: python3-saml's allowance, for both protocols.
ALLOWED_CLOCK_SKEW = OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT


class Purpose(StrEnum):
    SIGN_IN = "sign_in"
    TEST = "test"


def social_app_of(connection: SsoConnection) -> SocialApp:
    """What allauth calls an app, made from the connection whenever allauth asks for it (never
    saved: the secret stays sealed in the connection's row)."""
    trusted = {
        # allauth counts the IdP's addresses as verified at these domains only, and matches
        # an account already here by such an address (the IdP's subject from then on).
        "verified_email": sorted(verified_domains_of(connection.tenant)),
        "email_authentication": True,
    }
    if connection.protocol == SsoConnection.Protocol.OIDC:
        return SocialApp(
            provider="openid_connect",
            provider_id=connection.slug,
            name=connection.tenant.domain,
            client_id=connection.client_id,
            secret=unseal(connection.sealed_client_secret),
            settings={
                "server_url": discovery_url(connection.issuer),
                "token_auth_method": connection.token_auth_method,
                "oauth_pkce_enabled": True,
                **trusted,
            },
        )
    return SocialApp(
        provider="saml",
        provider_id=connection.slug,
        name=connection.tenant.domain,
        client_id=connection.slug,
        settings={
            "idp": {
                "entity_id": connection.idp_entity_id,
                "sso_url": connection.idp_sso_url,
                "x509cert": connection.idp_certificate,
            },
            "attribute_mapping": SAML_ATTRIBUTES,
            "advanced": {
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "allow_single_label_domains": True,
            },
            **trusted,
        },
    )


def start(
    request: HttpRequest,
    *,
    connection: SsoConnection,
    purpose: Purpose,
    next_url: str = "",
    login_hint: str = "",
) -> HttpResponse:
    """Send the browser on to the IdP through allauth's provider (a page that follows a link
    at once). An OpenID Connect sign-in carries a nonce that its ID token must return; a SAML
    one is answered in response to its request id (allauth keeps both in the session's
    state)."""
    data = {"purpose": purpose.value, "connection": connection.slug}
    options = {}
    if connection.protocol == SsoConnection.Protocol.OIDC:
        data["nonce"] = new_token()
        options["auth_params"] = {"nonce": data["nonce"]}
        if login_hint:
            options["auth_params"]["login_hint"] = login_hint
    try:
        provider = get_adapter(request).get_provider(request, provider=connection.slug)
        response = provider.redirect(
            request, AuthProcess.LOGIN, next_url=next_url or None, data=data, **options
        )
    except (requests.RequestException, OneLogin_Saml2_Error) as error:
        return sign_in_failed(
            request,
            connection=connection,
            reason=Reason.UNREACHABLE,
            detail=str(error),
            testing=purpose == Purpose.TEST,
            next_url=next_url,
        )
    if not isinstance(response, HttpResponseRedirect):
        return response
    # A link, not a redirect: the sign-in starts from a form, and the Content-Security-Policy's
    # form-action (our own origin only) would stop a form's redirect to the IdP.
    page = render(request, "sso/continue.html", {"url": response.url})
    add_never_cache_headers(page)
    return page


def vouched_address(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """allauth's `pre_social_login`: the IdP's answer is authentic; decide whether it signs
    anyone in. Refused (with its page and audit entry): an answer to no sign-in started here
    with this connection, an ID token without this sign-in's nonce, an address outside the
    tenant's verified domains. A test sign-in ends here, recorded; nobody is signed in by it."""
    connection = connection_by_slug(sociallogin.account.provider)
    if connection is None:
        raise ImmediateHttpResponse(HttpResponseRedirect("/"))
    data = sociallogin.state.get("data") or {}
    testing = data.get("purpose") == Purpose.TEST
    next_url = str(sociallogin.state.get("next") or "")

    def refuse(reason: str, email: str = "") -> NoReturn:
        response = sign_in_failed(
            request,
            connection=connection,
            reason=reason,
            testing=testing,
            email=email,
            next_url=next_url,
        )
        raise ImmediateHttpResponse(response)

    if data.get("connection") != connection.slug or data.get("purpose") not in set(Purpose):
        refuse(Reason.BAD_STATE)
    if connection.protocol == SsoConnection.Protocol.OIDC:
        id_token = sociallogin.account.extra_data.get("id_token") or {}
        if not data.get("nonce") or id_token.get("nonce") != data["nonce"]:
            refuse(Reason.BAD_NONCE)
        # allauth checks the expiry but, having fetched the token itself, not whether it was
        # issued in the future: the same drift as SAML's is allowed.
        if float(id_token.get("iat") or 0) > time.time() + ALLOWED_CLOCK_SKEW:
            refuse(Reason.NOT_YET_VALID)
    # The IdP's address (for a person known here, sociallogin.user is already their account).
    addresses = [address.email for address in sociallogin.email_addresses if address.email]
    email = addresses[0].strip().lower() if addresses else ""
    if not email:
        refuse(Reason.NO_ADDRESS)
    try:
        trusted = domain_of_email(email) in verified_domains_of(connection.tenant)
    except InvalidDomainError:
        trusted = False
    if not trusted:
        refuse(Reason.UNTRUSTED_ADDRESS, email=email)
    if testing:
        # Started by an admin of the tenant (portal), answered in their own session.
        membership = membership_of(request.user)
        if (
            membership is None
            or not membership.is_admin
            or membership.tenant_id != connection.tenant_id
        ):
            refuse(Reason.BAD_STATE)
        services.record_test_sign_in(connection=connection, actor=membership.user, email=email)
        messages.success(
            request,
            _("The test sign-in worked: your identity provider vouched for %(email)s.")
            % {"email": email},
        )
        raise ImmediateHttpResponse(HttpResponseRedirect(next_url or "/"))
    if not connection.is_tested:
        refuse(Reason.NOT_READY)
    # Only the vouched-for address comes along, verified, in lower case.
    if not sociallogin.is_existing:
        sociallogin.user.email = email
    sociallogin.email_addresses = [EmailAddress(email=email, verified=True, primary=True)]


def signed_in(sociallogin: SocialLogin, user: User) -> Membership | None:
    """allauth's `post_login` after a sign-in through a connection: the account takes the
    address the IdP vouched for, and its person joins the tenant per its sign-up rule."""
    connection = connection_by_slug(sociallogin.account.provider)
    if connection is None or not sociallogin.email_addresses:
        return None
    return services.accept_vouched_address(
        connection=connection, user=user, email=sociallogin.email_addresses[0].email
    )


@dataclass(frozen=True)
class ForTheIdp:
    """What the admin gives their identity provider about Quorum, for one connection."""

    sign_in_page: str
    redirect_uri: str = ""  # OpenID Connect
    entity_id: str = ""  # SAML
    acs_url: str = ""
    sp_metadata: str = ""


def for_the_idp(request: HttpRequest, connection: SsoConnection) -> ForTheIdp:
    """The URLs (and, for SAML, the service-provider metadata) allauth's provider uses for this
    connection, as the IdP must know them."""
    sign_in_page = request.build_absolute_uri(reverse("account_login"))
    if connection.protocol == SsoConnection.Protocol.OIDC:
        path = reverse("openid_connect_callback", kwargs={"provider_id": connection.slug})
        return ForTheIdp(sign_in_page=sign_in_page, redirect_uri=request.build_absolute_uri(path))
    sp = build_sp_config(request, {}, connection.slug)
    config = {
        "strict": True,
        "security": {"allowSingleLabelDomains": True, "wantAssertionsSigned": True},
        "sp": sp,
        "idp": {"entityId": "", "singleSignOnService": {"url": ""}, "x509cert": ""},
    }
    metadata = OneLogin_Saml2_Settings(config, sp_validation_only=True).get_sp_metadata()
    return ForTheIdp(
        sign_in_page=sign_in_page,
        entity_id=sp["entityId"],
        acs_url=sp["assertionConsumerService"]["url"],
        sp_metadata=metadata.decode() if isinstance(metadata, bytes) else metadata,
    )
