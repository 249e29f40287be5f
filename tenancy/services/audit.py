"""The audit log: one append-only event per change an admin, billing or domain action made."""

from typing import Any

from core.scoping import in_tenant_scope

from ..models import AuditEvent, Tenant, User


@in_tenant_scope
def record_audit(
    *,
    tenant: Tenant,
    actor: User | None,
    action: str,
    target: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the tenant's audit log (call it inside the action's transaction)."""
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        target=str(target)[: AuditEvent._meta.get_field("target").max_length],
        before=before or {},
        after=after or {},
    )
