"""The audit log: one append-only event per change an admin, billing or domain action made."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from core.scoping import in_tenant_scope

from ..models import AuditEvent, Tenant, User

_actor_label: ContextVar[str] = ContextVar("quorum_audit_actor_label", default="")
_batch: ContextVar[list[AuditEvent] | None] = ContextVar("quorum_audit_batch", default=None)


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Record every event of the block with `label` as its actor (a provisioning token's name).

    A context rather than an argument: the changes a token makes also reach licensing through the
    membership signals, whose services record their own events."""
    token = _actor_label.set(label)
    try:
        yield
    finally:
        _actor_label.reset(token)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the events recorded in the block in one INSERT when it ends, in the tenant's scope
    and inside the transaction of the action (which must enclose the block): one statement
    instead of one per event, for an identity provider's thousands of people. A block that
    raises writes none, as its transaction then writes nothing either."""
    events: list[AuditEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    if events:
        AuditEvent.objects.bulk_create(events)


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
    """Append one event to the tenant's audit log (call it inside the action's transaction);
    inside `audit_batch`, it is written when the batch ends."""
    event = AuditEvent(
        tenant=tenant,
        actor=actor,
        actor_label=_actor_label.get(),
        action=action,
        target=str(target)[: AuditEvent._meta.get_field("target").max_length],
        before=before or {},
        after=after or {},
    )
    batch = _batch.get()
    if batch is None:
        event.save(force_insert=True)
    else:
        batch.append(event)
    return event
