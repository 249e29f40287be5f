from tenancy.models import Membership

from .models import Purchase, Subscription


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
