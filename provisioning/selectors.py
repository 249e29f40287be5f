import hmac
import uuid

from django.db.models import Q, QuerySet

from core.scoping import in_tenant_scope
from tenancy.models import Tenant

from .models import ProvisionedUser, ProvisioningToken

TOKEN_SEPARATOR = "."  # noqa: S105  # between the key and the secret, not a secret


def token_presented(presented: str) -> ProvisioningToken | None:
    """The token whose `<key>.<secret>` was presented (revoked ones too), or None.

    Finding the token is what tells the tenant, so it cannot be scoped by one."""
    key, separator, secret = presented.partition(TOKEN_SEPARATOR)
    if not separator or not key or not secret:
        return None
    try:
        # get(), not first(): the key is unique, and the tokens' ordering would only cost an
        # ORDER BY on each of an identity provider's requests.
        token = ProvisioningToken.objects.unscoped().select_related("tenant").get(key=key)
    except ProvisioningToken.DoesNotExist:
        return None
    if not hmac.compare_digest(token.secret_hash, ProvisioningToken.digest(secret)):
        return None
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
