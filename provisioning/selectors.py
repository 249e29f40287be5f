import hmac
import uuid
from functools import partial

from django.db.models import Q, QuerySet

from core.scoping import in_tenant_scope
from core.tables import kept_read
from tenancy.models import Tenant, TenantDomain

from .models import ProvisionedUser, ProvisioningToken

# How long a token read is kept when nobody writes tokens or tenants; the versions keep it fresh.
KEEP_SECONDS = 60
TOKEN_SEPARATOR = "."  # noqa: S105  # between the key and the secret, not a secret


def token_presented(presented: str) -> ProvisioningToken | None:
    """The token whose `<key>.<secret>` was presented (revoked ones too), or None.

    Finding the token is what tells the tenant, so it cannot be scoped by one."""
    key, separator, secret = presented.partition(TOKEN_SEPARATOR)
    if not separator or not key or not secret:
        return None
    # Kept under the versions of the token, tenant and tenant domain tables, which every write
    # renews once committed (core.tables): a revocation is seen by the very next request.
    token = kept_read(f"scim-token:{key}", partial(_token_by_key, key), KEEP_SECONDS)
    if token is None or not hmac.compare_digest(
        token.secret_hash, ProvisioningToken.digest(secret)
    ):
        return None
    return token


def _token_by_key(key: str) -> ProvisioningToken | None:
    try:
        # get(), not first(): the key is unique, and the tokens' ordering would only cost an
        # ORDER BY on each of an identity provider's requests.
        token = ProvisioningToken.objects.unscoped().select_related("tenant").get(key=key)
    except ProvisioningToken.DoesNotExist:
        return None
    # Kept with the token, under their table's version too: each person an identity provider
    # sends is at one of them, checked then without a query.
    token.trusted_domains = frozenset(
        TenantDomain.objects.unscoped()
        .filter(tenant_id=token.tenant_id, status__in=TenantDomain.TRUSTED_STATUSES)
        .order_by()
        .values_list("domain", flat=True)
    )
    return token


@in_tenant_scope
def tokens_of(tenant: Tenant) -> QuerySet[ProvisioningToken]:
    """The tenant's provisioning tokens, newest first, with who made them."""
    return ProvisioningToken.objects.select_related("created_by")


@in_tenant_scope
def token_of(tenant: Tenant, *, pk: int) -> ProvisioningToken | None:
    """One token of the tenant, or None: another tenant's tokens are not found."""
    return ProvisioningToken.objects.filter(pk=pk).first()


@in_tenant_scope
def provisioned_users(tenant: Tenant, condition: Q | None = None) -> QuerySet[ProvisionedUser]:
    """The tenant's provisioned users matching `condition`, oldest first, with their accounts
    and addresses (as the SCIM list reads them)."""
    resources = ProvisionedUser.objects.select_related("user").prefetch_related("emails")
    if condition is not None:
        resources = resources.filter(condition)
    return resources.order_by("pk")


@in_tenant_scope
def provisioned_user(tenant: Tenant, *, scim_id: str) -> ProvisionedUser | None:
    """One provisioned user of the tenant by its SCIM id, or None (another tenant's, a
    malformed id)."""
    try:
        key = uuid.UUID(scim_id)
    except ValueError:
        return None
    return provisioned_users(tenant).filter(scim_id=key).first()
