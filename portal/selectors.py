"""Reads of the admin centre that combine several apps; each app's own reads stay its own."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Exists, Subquery
from django.shortcuts import get_object_or_404

from core.money import from_cents
from core.scoping import in_tenant_scope
from domains.selectors import troubled_domains, used_claim, used_claims
from licensing.selectors import (
    licence_counts,
    licence_holder_ids,
    live_subscription_with_waiting,
    waiting_member_count,
)
from tenancy.models import Membership, Tenant
from tenancy.selectors import audit_events, member_count, members_by_email

from .models import SupportReply, SupportRequest

LATEST_EVENTS = 8
EXPORT_CHUNK = 2000
# Replies the beat job re-queues per sweep; the next sweep takes the rest.
UNMAILED_SWEEP = 500


def dashboard_summary(tenant: Tenant) -> dict[str, Any]:
    """The dashboard's figures: the plan, its licence counts and next amount, the members, the
    domain confirmation that made the tenant managed, the members waiting for a licence, and
    the latest audit events; and whether a domain needs attention (the layout's banner). All
    but the members (kept counted) and the events are read with the live subscription, in one
    query."""
    claims = used_claims(tenant)
    subscription = live_subscription_with_waiting(
        tenant,
        claim_verified_at=Subquery(claims.values("verified_at")[:1]),
        claim_claimant_name=Subquery(claims.values("claimant__name")[:1]),
        domains_troubled=Exists(troubled_domains(tenant)),
    )
    plan = counts = next_amount = None
    if subscription is not None:
        plan = subscription.plan_details
        counts = licence_counts(subscription)
        next_amount = from_cents(plan.total(subscription.quantity))
        waiting = subscription.waiting_members  # type: ignore[attr-defined]
        claim = None
        if subscription.claim_verified_at is not None:  # type: ignore[attr-defined]
            claim = {
                "verified_at": subscription.claim_verified_at,  # type: ignore[attr-defined]
                "claimant_name": subscription.claim_claimant_name,  # type: ignore[attr-defined]
            }
        troubled = subscription.domains_troubled  # type: ignore[attr-defined]
    else:
        waiting = waiting_member_count(tenant)
        used = used_claim(tenant)
        claim = None
        if used is not None:
            claim = {"verified_at": used.verified_at, "claimant_name": used.claimant.name}
        troubled = None  # not known: the banner reads them
    return {
        "subscription": subscription,
        "plan": plan,
        "counts": counts,
        "next_amount": next_amount,
        "members": member_count(tenant),
        "waiting_for_licence": waiting,
        "domain_claim": claim,
        "domains_troubled": troubled,
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


@in_tenant_scope
def support_requests(tenant: Tenant) -> list[SupportRequest]:
    """The tenant's service requests, newest first, with who opened them."""
    return list(SupportRequest.objects.select_related("opened_by"))


@in_tenant_scope
def support_request_with_replies(tenant: Tenant, pk: int) -> SupportRequest:
    """One of the tenant's requests and its replies; another tenant's is not found (404)."""
    return get_object_or_404(
        SupportRequest.objects.select_related("opened_by").prefetch_related("replies__author"),
        pk=pk,
    )


def unmailed_support_reply_ids(*, written_before: datetime) -> list[int]:
    """Support replies whose mail was not sent, written before `written_before`."""
    # A beat sweep over every tenant: each reply's task then opens its own tenant's scope.
    return list(
        SupportReply.objects.unscoped()
        .filter(from_support=True, mailed_at__isnull=True, created_at__lt=written_before)
        .order_by("created_at")
        .values_list("pk", flat=True)[:UNMAILED_SWEEP]
    )
