"""Licences for many newcomers at once (people of a merged organisation): one INSERT ... SELECT
whatever their number, and the list of those still waiting for one. Kept apart from
services.py and selectors.py, which change with the purchase."""

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core.counts import forget_count
from core.scoping import in_tenant_scope
from meetings.services import set_licensed_caps
from tenancy.models import Membership, Tenant
from tenancy.services.audit import record_audit

from .models import Licence, Subscription
from .selectors import assigned_count_key, live_subscription


@in_tenant_scope
@transaction.atomic
def licence_newcomers(*, tenant: Tenant, user_ids: QuerySet) -> int:
    """Give the free licences of the tenant's live subscription to the members among `user_ids`
    (a query) who hold none, longest-standing members first; the others wait for a licence
    (the admin can buy more). Returns how many got one."""
    subscription = live_subscription(tenant)
    if subscription is None:
        return 0
    # The same lock as every seat change: "assigned <= bought" holds.
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    free = subscription.quantity - subscription.licences.count()
    if free <= 0:
        return 0
    newcomers, params = (
        _without_a_licence(Membership.objects.filter(user_id__in=user_ids), subscription)
        .order_by("joined_at", "user_id")
        .values("user_id")[:free]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Licence._meta.db_table} (subscription_id, user_id, assigned_at) "  # noqa: S608 (table name from model metadata)
            f"SELECT %s, user_id, %s FROM ({newcomers}) AS newcomers",
            [subscription.pk, timezone.now(), *params],
        )
        licensed = cursor.rowcount
    if not licensed:
        return 0
    forget_count(assigned_count_key(subscription.pk))
    set_licensed_caps(
        user_ids=subscription.licences.filter(user_id__in=user_ids).values("user_id"),
        cap=subscription.plan_details.meeting_cap,
    )
    record_audit(
        tenant=tenant,
        actor=None,
        action="licences.assigned_to_newcomers",
        target=subscription.stripe_subscription_id,
        after={"licences": licensed, "free_before": free},
    )
    return licensed


@in_tenant_scope
def waiting_for_a_licence(tenant: Tenant, user_ids: QuerySet) -> QuerySet[Membership]:
    """The memberships among `user_ids` (a query) that hold no licence of the tenant's live
    subscription, longest-standing first, with their users."""
    waiting = Membership.objects.filter(user_id__in=user_ids).select_related("user")
    subscription = live_subscription(tenant)
    if subscription is not None:
        waiting = _without_a_licence(waiting, subscription)
    return waiting.order_by("joined_at", "user_id")


def _without_a_licence(
    memberships: QuerySet[Membership], subscription: Subscription
) -> QuerySet[Membership]:
    # NOT EXISTS, an anti-join: NOT IN over 100,000 licences is planned as a nested loop.
    held = Licence.objects.filter(subscription=subscription, user_id=OuterRef("user_id"))
    return memberships.exclude(Exists(held))
