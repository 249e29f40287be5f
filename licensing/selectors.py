from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.db.models import F, Func, QuerySet, Subquery
from django.http import HttpRequest

from core.scoping import in_tenant_scope, tenant_scope
from tenancy.models import Membership, Tenant, User

from . import gateway
from .exceptions import NoLiveSubscription
from .models import Licence, LicenceWait, Purchase, Subscription


@in_tenant_scope
def seat_holders(tenant: Tenant) -> QuerySet[Membership]:
    """The verified members of a tenant, who each get a licence at the upgrade."""
    return Membership.objects.all().select_related("user").order_by("user__name", "user__email")


@in_tenant_scope
def count_seats(tenant: Tenant) -> int:
    return Membership.objects.all().count()


@in_tenant_scope
def live_subscription(tenant: Tenant) -> Subscription | None:
    return Subscription.objects.all().filter(status__in=Subscription.LIVE_STATUSES).first()


@in_tenant_scope
def live_subscription_with_waiting(tenant: Tenant, **annotations: Any) -> Subscription | None:
    """The live subscription with `waiting_members` (waiting_member_count) and the caller's
    further `annotations`, in one query."""
    waiting = _waiting(tenant).order_by().values(n=Func(F("pk"), function="COUNT"))
    return (
        Subscription.objects.all()
        .filter(status__in=Subscription.LIVE_STATUSES)
        .annotate(waiting_members=Subquery(waiting), **annotations)
        .first()
    )


# Where a request keeps its tenant's live subscription once read.
_KEPT_ON_REQUEST = "_live_subscription"


def keep_live_subscription(request: HttpRequest, subscription: Subscription | None) -> None:
    """`subscription`, just read, is what live_subscription_of answers for the rest of the
    request (a view reads it after any change it makes)."""
    setattr(request, _KEPT_ON_REQUEST, subscription)


def live_subscription_of(request: HttpRequest) -> Subscription | None:
    """The live subscription of the request's tenant, read at most once per request: the
    dashboard and the past-due banner of every admin page both show it."""
    if not hasattr(request, _KEPT_ON_REQUEST):
        tenant = getattr(request, "tenant", None)
        keep_live_subscription(request, live_subscription(tenant) if tenant is not None else None)
    kept: Subscription | None = getattr(request, _KEPT_ON_REQUEST)
    return kept


def paid_subscription(tenant: Tenant) -> Subscription:
    """The live subscription of a managed tenant, which the admin centre's pages stand on;
    a tenant whose subscription has ended has no admin centre."""
    subscription = live_subscription(tenant)
    if subscription is None:
        raise NoLiveSubscription()
    return subscription


@in_tenant_scope
def open_purchase(*, tenant: Tenant, buyer: User) -> Purchase | None:
    """The buyer's latest unfinished purchase attempt for this tenant, if any."""
    return (
        Purchase.objects.all()
        .filter(buyer=buyer)
        .exclude(state=Purchase.State.SUCCEEDED)
        .order_by("-created_at")
        .first()
    )


@in_tenant_scope
def licence_holder_ids(tenant: Tenant, user_ids: Iterable[int]) -> set[int]:
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
    with tenant_scope(subscription.tenant_id):
        return subscription.licences.select_related("user").order_by("user__name")[:limit]


def licence_counts(subscription: Subscription) -> dict[str, int]:
    """Bought, assigned and free licences of a subscription (the row keeps the number
    assigned: nothing is counted)."""
    return {
        "bought": subscription.quantity,
        "assigned": subscription.assigned,
        "free": max(subscription.quantity - subscription.assigned, 0),
    }


@in_tenant_scope
def waiting_member_count(tenant: Tenant, *, among: QuerySet[Any, Any] | None = None) -> int:
    """How many members wait for a licence: none was free when they joined, came back or came
    with a merged organisation; `among` (a query of user ids) counts only those."""
    waiting = _waiting(tenant)
    return (waiting if among is None else waiting.filter(user_id__in=among)).count()


def _waiting(tenant: Tenant) -> QuerySet[LicenceWait]:
    return LicenceWait.objects.filter(user__is_active=True, user__membership__tenant=tenant)


def invoices_of(subscription: Subscription) -> list[dict[str, Any]]:
    """The customer's invoices from Stripe, newest first, as plain dicts named as Stripe names
    their fields. Raises PaymentError when Stripe cannot be reached."""
    return [asdict(invoice) for invoice in gateway.invoices_of(subscription.stripe_customer_id)]
