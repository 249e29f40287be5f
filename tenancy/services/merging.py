"""Tenants merged into another: their members join it under its sign-up rule, in a few
statements whatever their number."""

from django.db import connection, transaction
from django.utils import timezone

from core.counts import forget_count
from core.scoping import tenant_scope

from ..models import JoinRequest, Membership, Removal, Tenant
from ..selectors import member_count_key


@transaction.atomic
def take_in_members(*, target: Tenant, source_ids: list[int]) -> dict[str, int]:
    """Every member of the tenants `source_ids` joins `target`, keeping their join date (the
    free plan's clock): at once when its sign-up rule lets people join, else as a join request
    for its admins (approval, or refused: nobody is dropped); so does anyone its admins removed.
    The source tenants are closed, merged into `target`. Their meetings are the caller's to
    move (meetings sits above tenancy).

    A fixed number of statements whatever the number of members; the caller holds the tenants'
    row locks. Returns how many joined and how many wait."""
    # The members and join requests of the merged tenants: other tenants' rows than `target`.
    members = Membership.objects.unscoped().filter(tenant_id__in=source_ids)
    waiting = members
    if target.signup_mode == Tenant.SignupMode.LICENCE_IF_FREE:
        with tenant_scope(target):
            removed = Removal.objects.values("user_id")
        waiting = members.filter(user_id__in=removed)
    now = timezone.now()
    # INSERT ... SELECT: 100,000 requests are written by the database, not built in Python.
    selected, params = waiting.values("user_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {JoinRequest._meta.db_table} (tenant_id, user_id, requested_at) "  # noqa: S608 (table name from model metadata)
            f"SELECT %s, user_id, %s FROM ({selected}) AS waiting",
            [target.pk, now, *params],
        )
        waiting_count = cursor.rowcount
    waiting.delete()
    joined = members.update(tenant=target)
    JoinRequest.objects.unscoped().filter(tenant_id__in=source_ids).update(tenant=target)
    Tenant.objects.filter(pk__in=source_ids).update(
        state=Tenant.State.CLOSED, merged_into=target, closed_at=now
    )
    for tenant_id in (target.pk, *source_ids):
        forget_count(member_count_key(tenant_id))
    return {"joined": joined, "waiting": waiting_count}
