"""Reads of the admin centre that combine several apps; each app's own reads stay its own."""

from collections.abc import Iterator
from typing import Any

from core.money import from_cents
from domains.selectors import used_claim
from licensing.selectors import (
    licence_counts,
    licence_holder_ids,
    live_subscription,
    waiting_member_count,
)
from tenancy.models import Membership, Tenant
from tenancy.selectors import audit_events, member_count, members_by_email

LATEST_EVENTS = 8
EXPORT_CHUNK = 2000


def dashboard_summary(tenant: Tenant) -> dict[str, Any]:
    """The dashboard's figures: the plan, its licence counts and next amount, the members, the
    domain confirmation that made the tenant managed, the members waiting for a licence, and
    the latest audit events."""
    subscription = live_subscription(tenant)
    plan = subscription.plan_details if subscription else None
    return {
        "subscription": subscription,
        "plan": plan,
        "counts": licence_counts(subscription) if subscription else None,
        "next_amount": from_cents(plan.total(subscription.quantity)) if plan else None,
        "members": member_count(tenant),
        "waiting_for_licence": waiting_member_count(tenant),
        "domain_claim": used_claim(tenant),
        "events": audit_events(tenant)[:LATEST_EVENTS],
    }


def members_for_export(tenant: Tenant) -> Iterator[tuple[Membership, bool]]:
    """Every member by e-mail address, with whether they hold a licence. The licence holders
    are read now; the members are read in chunks while the caller iterates, so that 100,000
    rows never sit in memory at once."""
    memberships = members_by_email(tenant)
    holders = licence_holder_ids(tenant, memberships.values_list("user_id", flat=True))
    return (
        (membership, membership.user_id in holders)
        for membership in memberships.iterator(chunk_size=EXPORT_CHUNK)
    )
