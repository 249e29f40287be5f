"""Writes of single sign-on: connecting a tenant's identity provider, proving it, enforcing it,
and what a sign-in through it records. Each function is one business action raising SsoError."""

import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_scope_of, in_tenant_scope
from tenancy.models import Membership, Tenant, User
from tenancy.services.audit import record_audit
from tenancy.services.membership import join_tenant_of_verified_email

from . import idp
from .encryption import seal
from .exceptions import SsoError
from .models import SsoConnection
from .selectors import break_glass_admins

SLUG_BYTES = 8
AUDIT_DETAIL_LENGTH = 200


def _locked_connection() -> SsoConnection:
    connection = SsoConnection.objects.select_for_update().first()
    if connection is None:
        raise SsoError(_("Your organisation has no identity provider connected."))
    return connection


def _refuse_while_enforced(connection: SsoConnection) -> None:
    if connection.is_enforced:
        raise SsoError(
            _("Single sign-on is enforced: turn enforcement off before changing the connection.")
        )


@in_tenant_scope
@transaction.atomic
def start_connection(*, tenant: Tenant, actor: User, protocol: str) -> SsoConnection:
    """Begin connecting the tenant's identity provider with `protocol`: this fixes the URLs
    that the IdP is given (they name the connection's slug, which never changes)."""
    if protocol not in SsoConnection.Protocol.values:
        raise SsoError(_("Choose OpenID Connect or SAML."))
    if SsoConnection.objects.select_for_update().exists():
        raise SsoError(_("Your organisation already has a connection: remove it to start again."))
    connection = SsoConnection.objects.create(
        tenant=tenant, protocol=protocol, slug=secrets.token_hex(SLUG_BYTES)
    )
    record_audit(
        tenant=tenant,
        actor=actor,
        action="sso.started",
        target=tenant.domain,
        after={"protocol": protocol},
    )
    return connection


def save_oidc_details(
    *, tenant: Tenant, actor: User, issuer: str, client_id: str, client_secret: str
) -> SsoConnection:
    """Save an OpenID Connect IdP once its discovery document confirmed the issuer; an empty
    `client_secret` keeps the one saved before. The secret is stored sealed. A change needs a
    new test sign-in."""
    described = idp.discovered(issuer)  # over the network: before any row is locked
    return _store_details(
        tenant=tenant,
        actor=actor,
        protocol=SsoConnection.Protocol.OIDC,
        fields={
            "issuer": described.issuer,
            "client_id": client_id,
            "token_auth_method": described.token_auth_method,
        },
        client_secret=client_secret,
    )


def save_saml_details(
    *, tenant: Tenant, actor: User, metadata_url: str, metadata_xml: str
) -> SsoConnection:
    """Save a SAML IdP from its metadata (read from its URL, or pasted): its entity ID, sign-in
    URL and signing certificate. A change needs a new test sign-in."""
    if bool(metadata_url) == bool(metadata_xml):
        raise SsoError(_("Give either the metadata URL or the metadata XML."))
    described = idp.saml_metadata_from(url=metadata_url, xml=metadata_xml)
    return _store_details(
        tenant=tenant,
        actor=actor,
        protocol=SsoConnection.Protocol.SAML,
        fields={
            "idp_metadata_url": metadata_url,
            "idp_entity_id": described.entity_id,
            "idp_sso_url": described.sso_url,
            "idp_certificate": described.certificate,
        },
        client_secret="",
    )


@in_tenant_scope
@transaction.atomic
def _store_details(
    *, tenant: Tenant, actor: User, protocol: str, fields: dict[str, str], client_secret: str
) -> SsoConnection:
    connection = _locked_connection()
    _refuse_while_enforced(connection)
    if connection.protocol != protocol:
        raise SsoError(_("This connection uses another protocol: remove it to switch."))
    if protocol == SsoConnection.Protocol.OIDC and not (
        client_secret or connection.sealed_client_secret
    ):
        raise SsoError(_("Enter the client secret."))
    before = {name: getattr(connection, name) for name in fields}
    for name, value in fields.items():
        setattr(connection, name, value)
    if client_secret:
        connection.sealed_client_secret = seal(client_secret)
    connection.configured_at = timezone.now()
    connection.tested_at = None
    connection.tested_by = None
    connection.tested_as = ""
    connection.save()
    # The certificate is public but long; the audit keeps what identifies the IdP.
    shown = {name: value for name, value in fields.items() if name != "idp_certificate"}
    before.pop("idp_certificate", None)
    record_audit(
        tenant=tenant,
        actor=actor,
        action="sso.configured",
        target=tenant.domain,
        before=before,
        after={**shown, **({"client_secret": "changed"} if client_secret else {})},
    )
    return connection


@in_scope_of("connection")
@transaction.atomic
def record_test_sign_in(*, connection: SsoConnection, actor: User, email: str) -> SsoConnection:
    """An admin signed in through the IdP and it vouched for `email` at a verified domain: the
    connection works, and the sign-in page may send the tenant's addresses to it."""
    connection = _locked_connection()
    connection.tested_at = timezone.now()
    connection.tested_by = actor
    connection.tested_as = email
    connection.save(update_fields=["tested_at", "tested_by", "tested_as"])
    record_audit(tenant=connection.tenant, actor=actor, action="sso.tested", target=email)
    return connection


@in_tenant_scope
@transaction.atomic
def set_enforcement(*, tenant: Tenant, actor: User, enforced: bool) -> SsoConnection:
    """Turn password sign-in and reset off for everyone at the tenant but its admins (who keep
    them as the break-glass path), or on again. Enforcing needs a successful test sign-in and an
    admin with a password; the caller re-authenticated the actor."""
    connection = _locked_connection()
    if connection.is_enforced == enforced:
        return connection
    if enforced:
        if not connection.is_tested:
            raise SsoError(_("Test the sign-in through your identity provider first."))
        if not any(m.user.has_usable_password() for m in break_glass_admins(tenant)):
            raise SsoError(
                _(
                    "No admin of your organisation has a password: nobody could sign in if the "
                    "identity provider failed. Set a password on your account first."
                )
            )
    connection.enforced_at = timezone.now() if enforced else None
    connection.save(update_fields=["enforced_at"])
    record_audit(
        tenant=tenant,
        actor=actor,
        action="sso.enforced" if enforced else "sso.enforcement_lifted",
        target=tenant.domain,
        before={"enforced": not enforced},
        after={"enforced": enforced},
    )
    return connection


@in_tenant_scope
@transaction.atomic
def remove_connection(*, tenant: Tenant, actor: User) -> None:
    """Disconnect the tenant's identity provider: its members sign in with passwords again, and
    the subjects linked to their accounts are forgotten (a new connection links them anew)."""
    connection = _locked_connection()
    _refuse_while_enforced(connection)
    SocialAccount.objects.filter(provider=connection.slug).delete()
    connection.delete()
    record_audit(
        tenant=tenant,
        actor=actor,
        action="sso.removed",
        target=tenant.domain,
        before={"protocol": connection.protocol},
    )


@in_scope_of("connection")
@transaction.atomic
def record_sign_in_failure(
    *, connection: SsoConnection, actor: User | None, action: str, reason: str, detail: str
) -> None:
    """A sign-in (or a test) through the IdP failed or was refused: nobody was signed in."""
    record_audit(
        tenant=connection.tenant,
        actor=actor,
        action=action,
        target=connection.tenant.domain,
        after={"reason": reason, "detail": detail[:AUDIT_DETAIL_LENGTH]},
    )


@in_scope_of("connection")
@transaction.atomic
def accept_vouched_address(
    *, connection: SsoConnection, user: User, email: str
) -> Membership | None:
    """`user` signed in through the IdP, which vouched for `email` at one of the tenant's
    verified domains. The account follows an address changed at the IdP (the IdP knows the
    person by an unchanging subject; an address someone else has here is left alone), the
    address counts as verified, and a person who is not a member yet joins the tenant per its
    sign-up rule, as any verified address does. Returns the membership, or None."""
    taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
    if user.email != email and not taken:
        record_audit(
            tenant=connection.tenant,
            actor=user,
            action="sso.address_changed",
            target=email,
            before={"email": user.email},
            after={"email": email},
        )
        EmailAddress.objects.filter(user=user).delete()
        user.email = email
        user.save(update_fields=["email"])
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return join_tenant_of_verified_email(user=user, email=user.email)
