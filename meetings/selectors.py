"""Reads of meetings: the participant-cap rule, tenant policies, listings."""

from datetime import UTC, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings as django_settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.scoping import tenant_scope
from tenancy.models import Tenant, User
from tenancy.selectors import policy_of

from .models import MAX_DURATION_MINUTES, Meeting, MeetingSettings, Participant

FREE_CAP = 10
FREE_CAP_AFTER_60_DAYS = 3
FREE_FULL_CAP_DAYS = 60

# Policy fields that fix the value of the personal setting (and meeting option) of the same name.
POLICY_FIXED_FIELDS = ("lobby_bypass", "anonymous_join_allowed", "recording_allowed")


class CapRule(StrEnum):
    FREE = "free"
    FREE_AFTER_60_DAYS = "free_after_60_days"
    LICENSED = "licensed"
    POLICY = "policy"


def meeting_settings_of(user: User) -> MeetingSettings | None:
    """The user's personal settings; None only for a user made without them (in bulk, or by raw
    SQL), until `services.ensure_meeting_settings` repairs that."""
    return MeetingSettings.objects.filter(user=user).first()


def personal_language(user: User) -> str:
    """The language the user's pages must speak, or "" to follow their browser: the personal
    setting once chosen (by them, or as their organisation's default); a setting never touched
    holds the product's default language, which is nobody's choice."""
    settings = meeting_settings_of(user)
    if settings is None:
        return ""
    chosen = "language" in settings.customised or settings.language != django_settings.LANGUAGE_CODE
    return settings.language if chosen else ""


def fixed_by_policy(tenant: Tenant | None) -> dict[str, Any]:
    """{field: value} of the meeting options the tenant's admin fixed; empty values are not
    fixed."""
    policy = policy_of(tenant)
    if policy is None:
        return {}
    fixed = {}
    for field in POLICY_FIXED_FIELDS:
        value = getattr(policy, field)
        if value is not None and value != "":
            fixed[field] = value
    return fixed


def effective_options(meeting: Meeting) -> dict[str, Any]:
    """The meeting's lobby, guest and recording options as they apply now: the tenant's policy
    may have fixed one since the meeting was scheduled."""
    options = {field: getattr(meeting, field) for field in POLICY_FIXED_FIELDS}
    return {**options, **fixed_by_policy(meeting.tenant)}


def participant_cap_rule(
    organiser: User, *, settings: MeetingSettings | None = None
) -> tuple[int, CapRule]:
    """(cap, CapRule): how many people a meeting of `organiser` may hold now, and why.

    Free plan: 10 from the day the organiser joined their tenant (day 0) up to and including
    day 60, counted in UTC calendar days; 3 from day 61. Licensed (`licensed_cap` written by the
    licensing app): that cap. Either is lowered by the tenant's `max_meeting_size` when set.
    """
    settings = settings or meeting_settings_of(organiser)
    membership = organiser.membership
    if settings is not None and settings.licensed_cap is not None:
        cap, rule = settings.licensed_cap, CapRule.LICENSED
    else:
        days = (timezone.now().date() - membership.joined_at.astimezone(UTC).date()).days
        if days <= FREE_FULL_CAP_DAYS:
            cap, rule = FREE_CAP, CapRule.FREE
        else:
            cap, rule = FREE_CAP_AFTER_60_DAYS, CapRule.FREE_AFTER_60_DAYS
    policy = policy_of(membership.tenant)
    if policy is not None and policy.max_meeting_size is not None and policy.max_meeting_size < cap:
        cap, rule = policy.max_meeting_size, CapRule.POLICY
    return cap, rule


def participant_cap(organiser: User, *, settings: MeetingSettings | None = None) -> int:
    """How many people, the organiser included, a meeting of `organiser` may hold now
    (`settings`: the organiser's, when the caller has them already)."""
    return participant_cap_rule(organiser, settings=settings)[0]


def organised_meetings(user: User) -> QuerySet[Meeting]:
    """The user's scheduled meetings (not the personal room), for edit and cancel lookups.

    A person's own meetings whatever their tenant now: someone an admin removed keeps theirs."""
    return Meeting.objects.unscoped().filter(organiser=user, is_personal_room=False)


def upcoming_and_past_meetings(
    user: User, *, past_limit: int = 50
) -> tuple[list[Meeting], list[Meeting]]:
    """(upcoming, past) scheduled meetings of the user, the past ones newest first and at most
    `past_limit`; a meeting is past once it ended."""
    now = timezone.now()
    # Only meetings started within the longest possible duration can still be running.
    surely_ended = now - timedelta(minutes=MAX_DURATION_MINUTES)
    older = organised_meetings(user).filter(starts_at__lte=surely_ended).order_by("-starts_at")
    # One query: the recent meetings and the latest `past_limit` older ones.
    meetings = list(
        organised_meetings(user).filter(
            Q(starts_at__gt=surely_ended) | Q(pk__in=older.values("pk")[:past_limit])
        )
    )
    recent = [m for m in meetings if m.starts_at > surely_ended]
    upcoming = [m for m in recent if m.ends_at > now]
    past = [m for m in reversed(recent) if m.ends_at <= now]
    past += [m for m in reversed(meetings) if m.starts_at <= surely_ended]
    return upcoming, past[:past_limit]


def meeting_by_token(token: str, *, is_in: User | None = None) -> Meeting | None:
    """The meeting behind a join link, whatever the visitor's tenant: links are shared with
    guests and other organisations, so this lookup crosses tenants. With `is_in`, also
    `user_is_in`: whether that user is in the meeting now (present_participants), same query."""
    meetings = Meeting.objects.unscoped().select_related("organiser", "tenant")
    if is_in is not None:
        here = Participant.objects.unscoped().filter(
            meeting=OuterRef("pk"), user=is_in, left_at__isnull=True
        )
        meetings = meetings.annotate(user_is_in=Exists(here))
    return meetings.filter(join_token=token).first()


def present_participants(meeting: Meeting) -> QuerySet[Participant]:
    """Who is in `meeting` now. In the meeting's tenant's scope, not the viewer's: a guest from
    another organisation sees the same room."""
    with tenant_scope(meeting.tenant_id):
        return Participant.objects.filter(meeting=meeting, left_at__isnull=True).order_by(
            "joined_at", "id"
        )


def settings_by_room_token(token: str) -> MeetingSettings | None:
    return MeetingSettings.objects.select_related("user").filter(personal_room_token=token).first()
