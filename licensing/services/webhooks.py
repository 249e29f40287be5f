"""Stripe's webhook events, applied to our copy of a subscription; falling back to free."""

from django.db import transaction

from core.scoping import in_scope_of
from licensing.gateway import WebhookEvent
from licensing.models import StripeEvent, Subscription
from meetings.services import release_licensed_caps
from tenancy.models import Membership, Tenant
from tenancy.services.audit import record_audit

# Stripe events that change our copy of a subscription; any other type is acknowledged only.
HANDLED_EVENTS = {
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}


@transaction.atomic
def process_stripe_event(*, event: WebhookEvent) -> bool:
    """Apply one verified Stripe webhook event to the local subscription.

    Each event id is applied once, however often it is delivered; an event older than the last
    one applied to the subscription is ignored, so late deliveries cannot undo newer news.
    Returns True when the event changed something."""
    _record, is_new = StripeEvent.objects.get_or_create(
        stripe_event_id=event.id, defaults={"type": event.type}
    )
    if not is_new or event.type not in HANDLED_EVENTS:
        return False
    # Stripe names the subscription, not the tenant: find it across tenants. Saving it and the
    # services called below (audit, falling back to free) act in its tenant's scope.
    subscription = (
        Subscription.objects.unscoped()
        .select_for_update()
        .filter(stripe_subscription_id=event.subscription_id)
        .first()
    )
    if subscription is None or (
        subscription.last_event_at and event.created < subscription.last_event_at
    ):
        return False
    before = {"status": subscription.status, "quantity": subscription.quantity}
    subscription.last_event_at = event.created
    if event.type in ("invoice.paid", "invoice.payment_succeeded"):
        if subscription.status not in Subscription.ENDED:
            subscription.status = Subscription.Status.ACTIVE
    elif event.type == "invoice.payment_failed":
        if subscription.status not in Subscription.ENDED:
            subscription.status = Subscription.Status.PAST_DUE
    elif event.type == "customer.subscription.deleted":
        subscription.status = Subscription.Status.CANCELED
    elif event.subscription is not None:
        subscription.status = event.subscription.status
        subscription.quantity = event.subscription.quantity
        subscription.cancel_at_period_end = event.subscription.cancel_at_period_end
        subscription.current_period_end = event.subscription.current_period_end
    subscription.save()
    if subscription.status in Subscription.ENDED:
        fall_back_to_free(subscription=subscription)
    record_audit(
        tenant=subscription.tenant,
        actor=None,
        action=f"billing.{event.type}",
        target=subscription.stripe_subscription_id,
        before=before,
        after={"status": subscription.status, "quantity": subscription.quantity},
    )
    return True


@in_scope_of("subscription")
def fall_back_to_free(*, subscription: Subscription) -> None:
    """The subscription ended: free limits again, admins become members; nothing is deleted."""
    tenant = subscription.tenant
    Tenant.objects.filter(pk=tenant.pk).update(state=Tenant.State.UNMANAGED)
    Membership.objects.filter(tenant=tenant, role=Membership.Role.ADMIN).update(
        role=Membership.Role.MEMBER
    )
    release_licensed_caps(tenant=tenant)
