"""The rules an admin fixes for every member's meetings (the tenant's Policy)."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.scoping import in_tenant_scope

from ..exceptions import TenancyError
from ..models import Policy, Tenant, User
from .audit import record_audit

POLICY_FIELDS = ("max_meeting_size", "lobby_bypass", "recording_allowed", "anonymous_join_allowed")
MIN_MEETING_SIZE = 2


@in_tenant_scope
@transaction.atomic
def set_policy(*, tenant: Tenant, actor: User, max_cap: int, values: dict[str, Any]) -> Policy:
    """Fix (or free, with an empty value) the rules every member's meetings follow from now on.

    `values` holds the POLICY_FIELDS; the meeting size cannot exceed the plan's `max_cap`."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TenancyError(_("Unknown policy."))
    size = values.get("max_meeting_size")
    if size is not None and not MIN_MEETING_SIZE <= size <= max_cap:
        raise TenancyError(
            _("The meeting size must be between %(min)d and %(max)d, your plan's limit.")
            % {"min": MIN_MEETING_SIZE, "max": max_cap}
        )
    if values.get("lobby_bypass") not in ("", None, *Policy.LobbyBypass.values):
        raise TenancyError(_("Unknown lobby rule."))
    policy, _created = Policy.objects.select_for_update().get_or_create(tenant=tenant)
    before = {field: getattr(policy, field) for field in POLICY_FIELDS}
    for field, value in values.items():
        setattr(policy, field, "" if field == "lobby_bypass" and value is None else value)
    policy.save()
    after = {field: getattr(policy, field) for field in POLICY_FIELDS}
    if before != after:
        record_audit(
            tenant=tenant,
            actor=actor,
            action="policy.changed",
            target=tenant.domain,
            before=before,
            after=after,
        )
    return policy
