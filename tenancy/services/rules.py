"""The tenant's own rules (fields of Tenant) changed by its admins, each change audited."""

from ..models import Tenant, User
from .audit import record_audit


def change_tenant_rule(
    *, tenant: Tenant, actor: User, field: str, value: object, action: str
) -> Tenant:
    """Set one of the tenant's own rules (a field of Tenant) under the tenant row's lock, and
    audit the change as `action`; setting the value it already has changes and audits nothing.
    Call it inside the calling service's transaction, after its own checks."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = getattr(tenant, field)
    if before == value:
        return tenant
    setattr(tenant, field, value)
    tenant.save(update_fields=[field])
    record_audit(
        tenant=tenant,
        actor=actor,
        action=action,
        target=tenant.domain,
        before={field: before},
        after={field: value},
    )
    return tenant
