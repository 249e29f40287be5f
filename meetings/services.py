"""Writes of meetings: each function is one business action, atomic, raising MeetingError."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, Exists, F, Field, OuterRef, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_scope_of, in_tenant_scope, tenant_scope
from tenancy.models import Membership, Tenant, User
from tenancy.selectors import tenant_of

from . import selectors
from .exceptions import (
    GuestJoinRefusedError,
    MeetingCancelledError,
    MeetingFullError,
    NoTenantError,
)
from .models import Meeting, MeetingSettings, Participant, new_link_token


def ensure_meeting_settings(*, user: User) -> MeetingSettings:
    """The user's personal settings, created when missing. Sign-up creates them; creating them
    here too repairs users made before the meetings app existed (or in bulk, or by raw SQL), so
    that no page fails for want of them."""
    # Not @transaction.atomic: every page calls this, and get_or_create's insert is atomic.
    return MeetingSettings.objects.get_or_create(user=user)[0]


def _tenant_of(user: User) -> Tenant:
    tenant = tenant_of(user)
    if tenant is None:
        raise NoTenantError
    return tenant


def _apply_policy(tenant: Tenant, options: dict[str, Any]) -> dict[str, Any]:
    """The meeting options with every value the tenant's admin fixed put in its place."""
    return {**options, **selectors.fixed_by_policy(tenant)}


@transaction.atomic
def schedule_meeting(
    *,
    organiser: User,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    lobby_bypass: str,
    anonymous_join_allowed: bool,
    recording_allowed: bool,
) -> Meeting:
    """Schedule a meeting of `organiser` in their tenant; options the tenant's policy fixes
    take the policy's value whatever was asked."""
    tenant = _tenant_of(organiser)
    with tenant_scope(tenant):
        options = _apply_policy(
            tenant,
            {
                "lobby_bypass": lobby_bypass,
                "anonymous_join_allowed": anonymous_join_allowed,
                "recording_allowed": recording_allowed,
            },
        )
        meeting = Meeting(
            organiser=organiser,
            tenant=tenant,
            title=title,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            **options,
        )
        meeting.full_clean()
        meeting.save()
    return meeting


@in_scope_of("meeting")
@transaction.atomic
def update_meeting(*, meeting: Meeting, by: User, **changes: Any) -> Meeting:
    """Change the title, time or options of a meeting `by` its organiser (others: DoesNotExist,
    which views turn into 404); policy-fixed options keep the policy's value."""
    meeting = selectors.organised_meetings(by).select_for_update().get(pk=meeting.pk)
    if meeting.is_cancelled:
        raise MeetingCancelledError
    allowed = {
        "title",
        "starts_at",
        "duration_minutes",
        "lobby_bypass",
        "anonymous_join_allowed",
        "recording_allowed",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    for field, value in _apply_policy(meeting.tenant, changes).items():
        setattr(meeting, field, value)
    meeting.full_clean()
    meeting.save()
    return meeting


@in_scope_of("meeting")
@transaction.atomic
def cancel_meeting(*, meeting: Meeting, by: User) -> Meeting:
    """Cancel a meeting `by` its organiser: everyone still in it leaves, nobody can join."""
    meeting = selectors.organised_meetings(by).select_for_update().get(pk=meeting.pk)
    if meeting.is_cancelled:
        return meeting
    now = timezone.now()
    meeting.cancelled_at = now
    meeting.save(update_fields=["cancelled_at"])
    Participant.objects.filter(meeting=meeting, left_at__isnull=True).update(left_at=now)
    return meeting


@in_scope_of("meeting")
@transaction.atomic
def join_meeting(
    *, meeting: Meeting, user: User | None = None, display_name: str = ""
) -> Participant:
    """Let `user` (or a guest with `display_name` when `user` is None) into `meeting`.

    How people are counted against `selectors.participant_cap(organiser)`: the organiser always
    holds one seat, present or not, and is never refused; everyone else present (signed-in or
    guest, `left_at` empty) holds one seat each. So a 3-cap meeting admits the organiser and
    two others. A signed-in user already present gets their current stay back (no new seat).

    The meeting row is locked (SELECT ... FOR UPDATE) before counting, so concurrent joins of
    one meeting count and insert one after the other: the cap holds under any concurrency.
    """
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("organiser")
        .get(pk=meeting.pk)
    )
    if meeting.is_cancelled:
        raise MeetingCancelledError
    if user is None:
        if not selectors.effective_options(meeting)["anonymous_join_allowed"]:
            raise GuestJoinRefusedError
    else:
        current = selectors.present_participants(meeting).filter(user=user).first()
        if current is not None:
            return current
        display_name = user.name or user.email
    if user is None or user.pk != meeting.organiser_id:
        others = selectors.present_participants(meeting).exclude(user=meeting.organiser).count()
        cap, rule = selectors.participant_cap_rule(meeting.organiser)
        if 1 + others + 1 > cap:
            raise MeetingFullError(cap=cap, rule=rule)
    return Participant.objects.create(
        meeting=meeting, tenant_id=meeting.tenant_id, user=user, display_name=display_name
    )


@in_scope_of("participant")
@transaction.atomic
def leave_meeting(*, participant: Participant) -> bool:
    """End a stay in a meeting; leaving twice changes nothing."""
    updated = Participant.objects.filter(pk=participant.pk, left_at__isnull=True).update(
        left_at=timezone.now()
    )
    return bool(updated)


@transaction.atomic
def update_personal_settings(*, user: User, values: dict[str, Any]) -> list[str]:
    """Save the personal settings in `values` ({field: value}, personal fields only) and add
    each field whose value really changed to `customised`, so that the upgrade keeps it.
    Returns the names of the changed fields."""
    unknown = set(values) - set(MeetingSettings.TENANT_DEFAULT_FIELDS)
    if unknown:
        raise ValueError(f"Not personal settings: {sorted(unknown)}")
    ensure_meeting_settings(user=user)
    settings = MeetingSettings.objects.select_for_update().get(user=user)
    changed = [field for field, value in values.items() if getattr(settings, field) != value]
    for field in changed:
        setattr(settings, field, values[field])
    settings.customised = sorted(set(settings.customised) | set(changed))
    settings.full_clean()
    settings.save()
    return changed


@transaction.atomic
def renew_personal_room_link(*, user: User) -> MeetingSettings:
    """Give the user a new personal-room link; the old one stops working at once."""
    ensure_meeting_settings(user=user)
    settings = MeetingSettings.objects.select_for_update().get(user=user)
    settings.personal_room_token = new_link_token()
    settings.customised = sorted({*settings.customised, "personal_room_token"})
    settings.save(update_fields=["personal_room_token", "customised"])
    return settings


@transaction.atomic
def open_personal_room(*, owner: User) -> Meeting:
    """The standing meeting behind the owner's personal-room link, created on first use with
    the owner's personal settings."""
    tenant = _tenant_of(owner)
    with tenant_scope(tenant):
        return _personal_room(owner, tenant)


def _personal_room(owner: User, tenant: Tenant) -> Meeting:
    room = Meeting.objects.filter(organiser=owner, is_personal_room=True).first()
    if room is not None:
        return room
    settings = ensure_meeting_settings(user=owner)
    options = _apply_policy(
        tenant,
        {
            "lobby_bypass": settings.lobby_bypass,
            "anonymous_join_allowed": settings.anonymous_join_allowed,
            "recording_allowed": settings.recording_allowed,
        },
    )
    return Meeting.objects.create(
        organiser=owner,
        tenant=tenant,
        title=_("%(name)s's room") % {"name": owner.name or owner.email},
        starts_at=timezone.now(),
        duration_minutes=settings.default_duration_minutes,
        is_personal_room=True,
        **options,
    )


@in_tenant_scope
@transaction.atomic
def migrate_personal_settings(
    *, tenant: Tenant, cap: int, tenant_defaults: dict[str, Any] | None = None
) -> int:
    """Move every member of `tenant` onto the licensed plan's meeting settings (called by the
    licensing app inside its upgrade transaction).

    Makes sure each member has a MeetingSettings row, sets `licensed_cap=cap` and
    `migrated_at=now`, and applies `tenant_defaults` ({field: value}) to the personal fields a
    member never customised; every customised value stays exactly as it was. A fixed number of
    queries whatever the number of members. Returns how many settings were migrated.
    """
    defaults = dict(tenant_defaults or {})
    unknown = set(defaults) - set(MeetingSettings.TENANT_DEFAULT_FIELDS)
    if unknown:
        raise ValueError(f"No tenant default possible for: {sorted(unknown)}")
    for field, value in defaults.items():
        model_field = MeetingSettings._meta.get_field(field)
        assert isinstance(model_field, Field)  # TENANT_DEFAULT_FIELDS are concrete fields
        defaults[field] = model_field.clean(value, None)

    members = Membership.objects.values("user_id")
    # Users get their row when they are created (meetings.apps), so only members inserted in
    # bulk may lack one: those few are built in Python (the room token comes from Python), and
    # the update below covers everyone in one statement, whatever the tenant's size.
    # NOT EXISTS, an anti-join: NOT IN over a large subquery is planned as a nested loop.
    without_settings = members.exclude(
        Exists(MeetingSettings.objects.filter(user_id=OuterRef("user_id")))
    )
    MeetingSettings.objects.bulk_create(
        [MeetingSettings(user_id=row["user_id"]) for row in without_settings],
        ignore_conflicts=True,
    )
    # A text search for the quoted name works on PostgreSQL and SQLite alike (SQLite has no
    # JSON containment); field names contain no quotes, so `"time_zone"` matches only itself.
    customised_text = Cast("customised", TextField())
    kept_if_customised = {
        field: Case(
            When(Contains(customised_text, Value(f'"{field}"')), then=F(field)),
            default=Value(value),
        )
        for field, value in defaults.items()
    }
    return MeetingSettings.objects.filter(user_id__in=members).update(
        licensed_cap=cap, migrated_at=timezone.now(), **kept_if_customised
    )


@transaction.atomic
def release_licensed_caps(*, tenant: Tenant) -> int:
    """Back to the free plan's caps for every member of `tenant` (its subscription ended);
    personal settings stay as they are. Returns how many settings changed."""
    return MeetingSettings.objects.filter(
        user__membership__tenant=tenant, licensed_cap__isnull=False
    ).update(licensed_cap=None)


def set_licensed_cap(*, user: User, cap: int | None) -> None:
    """One member was given a licence (the plan's `cap`) or lost it (None): the cap of the
    meetings they organise follows. Personal settings are untouched."""
    # One UPDATE when the settings exist, as they do for every user but the oldest; each
    # statement is atomic on its own.
    if not MeetingSettings.objects.filter(user=user).update(licensed_cap=cap):
        ensure_meeting_settings(user=user)
        MeetingSettings.objects.filter(user=user).update(licensed_cap=cap)


@transaction.atomic
def move_meetings(*, source_ids: list[int], target: Tenant) -> int:
    """The meetings of tenants merged into `target` are its meetings now, under its policy
    (one statement whatever their number). Returns how many moved."""
    # The meetings of the merged tenants: other tenants' rows than the one in scope.
    return Meeting.objects.unscoped().filter(tenant_id__in=source_ids).update(tenant=target)


@transaction.atomic
def set_licensed_caps(*, user_ids: QuerySet[Any, Any] | list[int], cap: int | None) -> int:
    """Members given a licence in bulk (`user_ids`, a query or a list): the cap of the meetings they
    organise follows (one statement). Personal settings are untouched."""
    return MeetingSettings.objects.filter(user_id__in=user_ids).update(licensed_cap=cap)
