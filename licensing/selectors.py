from django.db.models import QuerySet

from core.counts import kept_count
from tenancy.models import Membership

from .gateway import stripe_client
from .models import Licence, Purchase, Subscription


def seat_holders(tenant):
    """The verified members of a tenant, who each get a licence at the upgrade."""
    return (
        Membership.objects.for_tenant(tenant)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def count_seats(tenant):
    return Membership.objects.for_tenant(tenant).count()


def live_subscription(tenant):
    return (
        Subscription.objects.for_tenant(tenant)
        .filter(status__in=Subscription.LIVE_STATUSES)
        .first()
    )


def open_purchase(*, tenant, buyer):
    """The buyer's latest unfinished purchase attempt for this tenant, if any."""
    return (
        Purchase.objects.for_tenant(tenant)
        .filter(buyer=buyer)
        .exclude(state=Purchase.State.SUCCEEDED)
        .order_by("-created_at")
        .first()
    )


def licence_holder_ids(tenant, user_ids):
    """Which of `user_ids` hold a licence of the tenant's live subscription."""
    return set(
        Licence.objects.filter(
            subscription__tenant=tenant,
            subscription__status__in=Subscription.LIVE_STATUSES,
            user_id__in=user_ids,
        ).values_list("user_id", flat=True)
    )


def licence_holders(subscription: Subscription, *, limit: int) -> QuerySet[Licence]:
    """The first `limit` licences of the subscription with their holders, by name."""
    return subscription.licences.select_related("user").order_by("user__name")[:limit]


def assigned_count_key(subscription_id):
    return f"licences:{subscription_id}"


def licence_counts(subscription, *, kept=False):
    """Bought, assigned and free licences of a subscription; `kept`: the assigned count may be
    a minute old unless a licence was assigned or freed since (for the dashboard)."""
    assigned = (
        kept_count(assigned_count_key(subscription.pk), subscription.licences)
        if kept
        else subscription.licences.count()
    )
    return {
        "bought": subscription.quantity,
        "assigned": assigned,
        "free": max(subscription.quantity - assigned, 0),
    }


def invoices_of(subscription):
    """The customer's invoices from Stripe, newest first, as plain dicts."""
    listing = stripe_client().v1.invoices.list(
        params={"customer": subscription.stripe_customer_id, "limit": 24}
    )
    invoices = [invoice.to_dict() for invoice in listing.data]
    return sorted(invoices, key=lambda invoice: invoice["created"], reverse=True)
