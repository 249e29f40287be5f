"""Reads of single sign-on: which connection covers an address, who it shuts out of passwords."""

from django.db.models import QuerySet

from core.scoping import in_tenant_scope
from tenancy.email_domains import domain_of_email
from tenancy.exceptions import InvalidDomainError
from tenancy.models import Membership, Tenant, TenantDomain, User
from tenancy.selectors import covering_domain, membership_of

from .models import SsoConnection


@in_tenant_scope
def connection_of(tenant: Tenant) -> SsoConnection | None:
    """The tenant's identity provider connection, or None."""
    return SsoConnection.objects.select_related("tested_by").first()


def connection_by_slug(slug: str) -> SsoConnection | None:
    """The configured connection that allauth's URLs (and its provider id) name, or None."""
    # A sign-in comes before anyone's tenant is known: the IdP's callback names the connection.
    return (
        SsoConnection.objects.unscoped()
        .select_related("tenant")
        .filter(slug=slug, configured_at__isnull=False)
        .first()
    )


def connection_for_address(email: str) -> SsoConnection | None:
    """The tested connection of the tenant that proved `email`'s domain (or a parent of it,
    `tenancy.selectors.covering_domain`): where the sign-in page sends this address. None for an
    address no identity provider covers."""
    try:
        domain = domain_of_email(email)
    except InvalidDomainError:
        return None
    held = covering_domain(domain)
    if held is None or held.status not in TenantDomain.TRUSTED_STATUSES:
        return None
    # Which tenant owns a domain is asked before anyone signs in: no tenant is in scope.
    return (
        SsoConnection.objects.unscoped()
        .select_related("tenant")
        .filter(tenant_id=held.tenant_id, tested_at__isnull=False)
        .first()
    )


def enforced_connection_for_address(email: str) -> SsoConnection | None:
    """The connection through which `email` must sign in, if its tenant enforces single
    sign-on; None otherwise."""
    connection = connection_for_address(email)
    return connection if connection is not None and connection.is_enforced else None


def enforced_connection_for(user: User) -> SsoConnection | None:
    """The enforced connection that closes the password path to `user`: their tenant's, or
    that of their address's domain. None for the tenant's admins (the break-glass path) and for
    everyone whose tenant does not enforce single sign-on."""
    membership = membership_of(user)
    if membership is not None and membership.is_admin:
        return None
    return enforced_connection_for_address(user.email)


@in_tenant_scope
def break_glass_admins(tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's admins, who keep the password path when single sign-on is enforced."""
    return (
        Membership.objects.filter(role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
