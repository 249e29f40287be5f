"""Stripe's webhook events, applied to our copy of a subscription; falling back to free when a
subscription ends or stays unpaid beyond the grace period."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.scoping import in_scope_of
from licensing import gateway
from licensing.exceptions import PaymentError
from licensing.gateway import WebhookEvent
from licensing.models import StripeEvent, Subscription, SubscriptionStatus
from licensing.plans import plan_by_price
from licensing.services.seats import give_free_seats_to_waiting_members
from meetings.services import release_licensed_caps
from tenancy.identity import identity_changed
from tenancy.models import Membership, Tenant
from tenancy.services.audit import record_audit

logger = logging.getLogger(__name__)

# Stripe events that change our copy of a subscription; any other type is acknowledged only.
# `invoice.payment_succeeded` is what localstripe (and endpoints of older API versions) send.
HANDLED_EVENTS = {
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
}
# The invoice of a seat increase (a pending update): its failure leaves the subscription as it
# was, it does not make the subscription past due.
SEAT_CHANGE_INVOICE = "subscription_update"


def register_webhook_endpoint(*, url: str) -> str:
    """Ask Stripe to send the handled events to `url` in Quorum's API version; returns the
    endpoint's signing secret (STRIPE_WEBHOOK_SECRET)."""
    return gateway.register_webhook_endpoint(url=url, events=sorted(HANDLED_EVENTS))


@transaction.atomic
def process_stripe_event(*, event: WebhookEvent) -> bool:
    """Apply one verified Stripe webhook event to the local subscription.

    Each event id is applied once, however often it is delivered; an event older than the last
    one applied to the subscription is ignored, so late deliveries cannot undo newer news.
    An event in another API version than Quorum's is logged and its fields are not read: the
    subscription is read again from Stripe, in Quorum's version, and mirrored.
    Returns True when the event changed something. Raises PaymentError when Stripe cannot be
    reached for that read (nothing is recorded: Stripe delivers the event again)."""
    record, is_new = StripeEvent.objects.get_or_create(
        stripe_event_id=event.id, defaults={"type": event.type}
    )
    if not is_new or event.type not in HANDLED_EVENTS:
        return False
    if not event.trusted:
        logger.warning(
            "Stripe event %s (%s) is in API version %s, not %s: its fields are not read; the "
            "subscription is read from Stripe instead.",
            event.id,
            event.type,
            event.api_version,
            gateway.api_version(),
        )
    # Stripe names the subscription, not the tenant: find it across tenants. Saving it and the
    # services called below (audit, falling back to free) act in its tenant's scope.
    subscription = (
        Subscription.objects.unscoped()
        .select_for_update()
        .filter(stripe_subscription_id=_subscription_id(event))
        .first()
    )
    if subscription is not None:
        # Known now, not when the event arrived: the event's row names its tenant from here on.
        record.tenant_id = subscription.tenant_id
        record.save(update_fields=["tenant"])
    if subscription is None or (
        subscription.last_event_at and event.created < subscription.last_event_at
    ):
        return False
    seats_before = subscription.quantity
    before = {"status": subscription.status, "quantity": seats_before}
    subscription.last_event_at = event.created
    if event.trusted:
        _apply(subscription, event)
    else:
        _mirror(subscription, gateway.retrieve_subscription(subscription.stripe_subscription_id))
    subscription.save()
    if before["status"] not in Subscription.ENDED and subscription.status in Subscription.ENDED:
        fall_back_to_free(subscription=subscription)
    if subscription.is_live and subscription.quantity > seats_before:
        # More seats (bought in Stripe's dashboard, or paid after the bank's authentication):
        # they go to the members waiting for a licence, in this transaction.
        give_free_seats_to_waiting_members(tenant=subscription.tenant, actor=None)
    record_audit(
        tenant=subscription.tenant,
        actor=None,
        action=f"billing.{event.type}",
        target=subscription.stripe_subscription_id,
        before=before,
        after={"status": subscription.status, "quantity": subscription.quantity},
    )
    return True


def _subscription_id(event: WebhookEvent) -> str | None:
    if event.subscription is not None:
        return event.subscription.id
    if event.invoice is not None:
        return event.invoice.subscription_id
    if event.object_type == "subscription":
        return event.object_id
    if event.object_type == "invoice" and event.object_id:
        return gateway.retrieve_invoice(event.object_id).subscription_id
    return None


def _apply(subscription: Subscription, event: WebhookEvent) -> None:
    """What an event in Quorum's API version says, applied."""
    if event.subscription is not None:
        _mirror(subscription, event.subscription)
        if event.type == "customer.subscription.deleted":
            _set_status(subscription, Subscription.Status.CANCELED)
    elif event.invoice is not None and subscription.status not in Subscription.ENDED:
        if event.type == "invoice.payment_failed":
            if event.invoice.billing_reason != SEAT_CHANGE_INVOICE:
                _set_status(subscription, Subscription.Status.PAST_DUE, at=event.created)
                subscription.unpaid_invoice_url = event.invoice.hosted_invoice_url or ""
        else:
            _set_status(subscription, Subscription.Status.ACTIVE)


def _mirror(subscription: Subscription, state: gateway.StripeSubscription) -> None:
    """Our copy follows Stripe's subscription (its items hold what is paid for)."""
    _set_status(subscription, Subscription.Status(state.status))
    subscription.quantity = state.quantity
    subscription.stripe_item_id = state.item_id
    subscription.cancel_at_period_end = state.cancel_at_period_end
    subscription.current_period_end = state.current_period_end
    plan = plan_by_price(lookup_key=state.price_lookup_key, price_id=state.price_id)
    if plan is not None:
        subscription.plan = plan.key


def _set_status(
    subscription: Subscription, status: SubscriptionStatus, *, at: datetime | None = None
) -> None:
    subscription.status = status
    if status != Subscription.Status.PAST_DUE:
        subscription.past_due_since = None
        subscription.unpaid_invoice_url = ""
    elif subscription.past_due_since is None:
        subscription.past_due_since = at or timezone.now()


@in_scope_of("subscription")
def fall_back_to_free(*, subscription: Subscription) -> None:
    """The subscription ended: free limits again, admins become members; nothing is deleted.

    Only when it was the tenant's live subscription: the end of an older one (a late event after
    the tenant bought again) changes that subscription's row and nothing else."""
    tenant = subscription.tenant
    if (
        Subscription.objects.filter(status__in=Subscription.LIVE_STATUSES)
        .exclude(pk=subscription.pk)
        .exists()
    ):
        return
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.UNMANAGED)
    Membership.objects.filter(tenant=tenant, role=Membership.Role.ADMIN).update(
        role=Membership.Role.MEMBER
    )
    identity_changed(tenant_id=tenant.pk)  # the state and every admin's role: bulk updates
    release_licensed_caps(tenant=tenant)


def end_overdue_subscriptions() -> int:
    """Beat job: end every subscription past due for longer than PAST_DUE_GRACE_DAYS, in Stripe
    and here, and let its tenant fall back to free as on cancellation (settings and data are
    kept). A subscription Stripe cannot cancel now is tried again on the next run.
    Returns how many ended."""
    cutoff = timezone.now() - timedelta(days=settings.PAST_DUE_GRACE_DAYS)
    # Crosses tenants: the sweep looks at every tenant's subscriptions.
    overdue = (
        Subscription.objects.unscoped()
        .filter(status=Subscription.Status.PAST_DUE, past_due_since__lte=cutoff)
        .values_list("pk", flat=True)
    )
    ended = 0
    for subscription_id in list(overdue):
        try:
            ended += _end_overdue_subscription(subscription_id, cutoff)
        except PaymentError:
            logger.warning("Stripe could not cancel overdue subscription %s", subscription_id)
    return ended


@transaction.atomic
def _end_overdue_subscription(subscription_id: int, cutoff: datetime) -> int:
    subscription = (
        Subscription.objects.unscoped()
        .select_for_update()
        .filter(
            pk=subscription_id,
            status=Subscription.Status.PAST_DUE,
            past_due_since__lte=cutoff,
        )
        .first()
    )
    if subscription is None:  # paid meanwhile
        return 0
    gateway.cancel_subscription(subscription.stripe_subscription_id)
    past_due_since = subscription.past_due_since
    _set_status(subscription, Subscription.Status.CANCELED)
    subscription.save()
    fall_back_to_free(subscription=subscription)
    record_audit(
        tenant=subscription.tenant,
        actor=None,
        action="billing.grace_period_ended",
        target=subscription.stripe_subscription_id,
        before={"status": Subscription.Status.PAST_DUE, "past_due_since": str(past_due_since)},
        after={"status": subscription.status},
    )
    return 1
