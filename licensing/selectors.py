from core.counts import kept_count
from core.scoping import in_tenant_scope
from tenancy.models import Membership

from .gateway import stripe_client
from .models import Licence, Purchase, Subscription


@in_tenant_scope
def seat_holders(tenant):
    """The verified members of a tenant, who each get a licence at the upgrade."""
    return Membership.objects.all().select_related("user").order_by("user__name", "user__email")


@in_tenant_scope
def count_seats(tenant):
    return Membership.objects.all().count()


@in_tenant_scope
def live_subscription(tenant):
    return Subscription.objects.all().filter(status__in=Subscription.LIVE_STATUSES).first()


@in_tenant_scope
def open_purchase(*, tenant, buyer):
    """The buyer's latest unfinished purchase attempt for this tenant, if any."""
    return (
        Purchase.objects.all()
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
