from django.db.models import F, Q

from config.counts import kept_count

from .models import Announcement, AnnouncementDelivery, AuditEvent, Membership


def membership_of(user):
    """The user's membership with its tenant, or None (anonymous, unverified, consumer domain)."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.select_related("tenant").filter(user=user).first()
    if membership is not None:
        user.membership = membership  # kept on the user: `user.membership` costs no more query
    return membership


MEMBER_SORTS = {
    "name": ("user__name", "user__email"),
    "email": ("user__email",),
    "joined": ("-joined_at", "user__email"),
    # Members who never signed in come last, not first as PostgreSQL's DESC would put them.
    "last_login": (F("user__last_login").desc(nulls_last=True), "user__email"),
}


def members_page(tenant, *, search="", sort="name", page=1, per_page=50):
    """One page of a tenant's members, and whether a next page exists.

    Reads per_page + 1 rows instead of counting the whole tenant, so a page costs the same at
    100 members as at 100,000."""
    members = Membership.objects.for_tenant(tenant).select_related("user")
    if search:
        members = members.filter(Q(user__name__icontains=search) | Q(user__email__icontains=search))
    ordering = MEMBER_SORTS.get(sort, MEMBER_SORTS["name"])
    start = (page - 1) * per_page
    rows = list(members.order_by(*ordering)[start : start + per_page + 1])
    return rows[:per_page], len(rows) > per_page


def member_count(tenant):
    """How many members the tenant has (kept a minute; joins and removals forget it)."""
    return kept_count(f"members:{tenant.pk}", Membership.objects.for_tenant(tenant))


def audit_events(tenant, *, action="", actor="", since=None, until=None):
    """The tenant's audit log, newest first, filtered by action, actor e-mail and dates."""
    events = AuditEvent.objects.for_tenant(tenant).select_related("actor")
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
    """Announcements with recipients left to mail and no mail sent since `quiet_since`."""
    busy = AnnouncementDelivery.objects.filter(sent_at__gte=quiet_since).values("announcement_id")
    return list(
        Announcement.objects.filter(finished_at__isnull=True, created_at__lt=quiet_since)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)
    )
