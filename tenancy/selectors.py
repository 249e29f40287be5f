from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from core.counts import kept_count
from core.scoping import in_tenant_scope

from .models import (
    Announcement,
    AnnouncementDelivery,
    AuditEvent,
    JoinRequest,
    Membership,
    Tenant,
    TenantDomain,
)


def membership_of(user):
    """The user's membership with its tenant, or None (anonymous, unverified, consumer domain).

    The root of tenant scoping: it finds the tenant, so it cannot be scoped by one."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.unscoped().select_related("tenant").filter(user=user).first()
    if membership is not None:
        user.membership = membership  # kept on the user: `user.membership` costs no more query
    return membership


def covering_domain(domain: str) -> TenantDomain | None:
    """The tenant domain that addresses at `domain` (normalised) belong to: the same domain,
    whatever its state, else its closest parent that was proven (verified, in grace or
    suspended), so that eu.contoso.com belongs to whoever verified contoso.com. None when the
    domain is nobody's yet. One query.

    Finding it crosses tenants by nature; every address-to-tenant mapping goes through here."""
    labels = domain.split(".")
    candidates = [".".join(labels[index:]) for index in range(len(labels) - 1)]
    held = {
        row.domain: row
        for row in TenantDomain.objects.unscoped()
        .select_related("tenant")
        .filter(domain__in=candidates)
    }
    if domain in held:
        return held[domain]
    for parent in candidates[1:]:
        if parent in held and held[parent].status in TenantDomain.COVERING_STATUSES:
            return held[parent]
    return None


def tenant_for_domain(domain: str) -> Tenant | None:
    """The tenant whose addresses end in `domain` (see `covering_domain`), or None."""
    held = covering_domain(domain)
    return held.tenant if held is not None else None


def tenant_of(user):
    """The tenant `user` belongs to, or None: the one answer to "which tenant?"."""
    membership = membership_of(user)
    return membership.tenant if membership is not None else None


# Each sort order: (field, descending) keys, the last one unique. Only last_login is ever
# empty: those who never signed in come last, not first as PostgreSQL's DESC would put them.
MEMBER_SORTS = {
    "name": (("user__name", False), ("user__email", False)),
    "email": (("user__email", False),),
    "joined": (("joined_at", True), ("user__email", False)),
    "last_login": (("user__last_login", True), ("user__email", False)),
}
NULLS_LAST = {"user__last_login"}


@dataclass
class MemberPage:
    rows: list
    # The user ids that the Next and Previous links continue from (None: no such page).
    next_after: int | None
    previous_before: int | None


@in_tenant_scope
def members_page(tenant, *, search="", sort="name", after=None, before=None, per_page=50):
    """One page of a tenant's members: the first, the one after the member `after` or the one
    before the member `before`, in the order `sort`.

    Pages continue from a member (keyset pagination) rather than skip a count of rows, so the
    database walks one page of an index whichever page it is: the 1,000th page of 100,000
    members costs what the first does."""
    members = Membership.objects.select_related("user")
    if search:
        members = members.filter(Q(user__name__icontains=search) | Q(user__email__icontains=search))
    keys = MEMBER_SORTS.get(sort, MEMBER_SORTS["name"])
    cursor = None
    if after is not None or before is not None:
        fields = [field for field, _descending in keys]
        cursor = members.filter(user_id=after or before).values_list(*fields).first()
    # A member who left (or never was) restarts from the first page.
    forward = cursor is None or before is None
    if cursor is not None:
        members = members.filter(_beyond(keys, cursor, forward=forward))
    rows = list(members.order_by(*_ordering(keys, forward=forward))[: per_page + 1])
    more, rows = len(rows) > per_page, rows[:per_page]
    if forward:
        return MemberPage(
            rows,
            next_after=rows[-1].user_id if more else None,
            previous_before=rows[0].user_id if cursor is not None and rows else None,
        )
    rows.reverse()
    return MemberPage(
        rows,
        next_after=rows[-1].user_id if rows else None,
        previous_before=rows[0].user_id if more else None,
    )


def _ordering(keys, *, forward):
    """The sort order, or (not `forward`) its exact reverse, as the indexes can walk it."""
    ordering = []
    for field, descending in keys:
        nulls = {}
        if field in NULLS_LAST:
            nulls = {"nulls_last": True} if forward else {"nulls_first": True}
        ordering.append(F(field).desc(**nulls) if descending == forward else F(field).asc(**nulls))
    return ordering


def _beyond(keys, values, *, forward):
    """The rows after (or, not `forward`, before) the row whose sort keys are `values`."""
    beyond, ties = Q(pk__in=[]), Q()
    for (field, descending), value in zip(keys, values, strict=True):
        beyond |= ties & _strictly_beyond(field, descending, value, forward=forward)
        ties &= Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})
    first_field, first_descending = keys[0]
    if values[0] is not None and first_field not in NULLS_LAST:
        # Redundant with the above, but a bound the database can start its index walk from.
        lookup = "lte" if first_descending == forward else "gte"
        beyond &= Q(**{f"{first_field}__{lookup}": values[0]})
    return beyond


def _strictly_beyond(field, descending, value, *, forward):
    nulls_last = field in NULLS_LAST
    if value is None:  # empty values come last going forward: only going back is anything beyond
        return Q(pk__in=[]) if forward else Q(**{f"{field}__isnull": False})
    beyond = Q(**{f"{field}__{'lt' if descending == forward else 'gt'}": value})
    if nulls_last and forward:
        beyond |= Q(**{f"{field}__isnull": True})
    return beyond


def member_count_key(tenant_id):
    return f"members:{tenant_id}"


@in_tenant_scope
def member_count(tenant):
    """How many members the tenant has (kept a minute; joins and removals forget it)."""
    return kept_count(member_count_key(tenant.pk), Membership.objects.all())


@in_tenant_scope
def audit_events(tenant, *, action="", actor="", since=None, until=None):
    """The tenant's audit log, newest first, filtered by action, actor e-mail and dates."""
    events = AuditEvent.objects.select_related("actor")
    if action:
        events = events.filter(action__icontains=action)
    if actor:
        events = events.filter(actor__email__icontains=actor)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events


def announcement_progress(announcement):
    """(mailed, total) recipients of an announcement."""
    deliveries = announcement.deliveries
    return deliveries.filter(sent_at__isnull=False).count(), deliveries.count()


def unfinished_announcement_ids(*, quiet_since):
    """Announcements with recipients left to mail and no mail sent since `quiet_since`.

    A beat sweep over every tenant."""
    busy = AnnouncementDelivery.objects.filter(sent_at__gte=quiet_since).values("announcement_id")
    return list(
        Announcement.objects.unscoped()
        .filter(finished_at__isnull=True, created_at__lt=quiet_since)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )


@in_tenant_scope
def member_ids_among(tenant: Tenant, user_ids: Iterable[int] | QuerySet) -> set[int]:
    """Which of `user_ids` (a list or a query) are members of the tenant."""
    return set(Membership.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))


@in_tenant_scope
def waiting_for_approval_among(tenant: Tenant, user_ids: Iterable[int] | QuerySet) -> QuerySet:
    """Which of `user_ids` (a list or a query) wait for the tenant's admins to let them in."""
    return JoinRequest.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
