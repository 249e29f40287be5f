import secrets
import zoneinfo
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager
from tenancy.models import Policy

MAX_DURATION_MINUTES = 24 * 60
DURATION_VALIDATORS = [MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)]


def new_link_token():
    """256 random bits, URL-safe: a link nobody can guess or enumerate."""
    return secrets.token_urlsafe(32)


# The geographic areas of the IANA database. zoneinfo.available_timezones() also lists what is
# no place to live in: the host's `localtime`, `Factory`, `posixrules`, legacy abbreviations
# (`EST`, `CET`), country aliases (`Japan`) and backward links (`US/Eastern`, `Etc/GMT+5`).
TIME_ZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)


@cache
def time_zone_names() -> frozenset[str]:
    """The time zones a person may pick: UTC and every Area/Location zone of the IANA database."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name == "UTC" or name.split("/", 1)[0] in TIME_ZONE_AREAS
    )


# Names zoneinfo lists that are no zone at all: the host's own, tzdata's placeholder, a template.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def known_time_zones() -> frozenset[str]:
    """Every real zone, older names of places included: a setting saved as `US/Eastern` before
    the list offered places only stays valid (and stays selected) until its owner changes it."""
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def validate_time_zone(value):
    if value not in known_time_zones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class Meeting(models.Model):
    """A scheduled meeting; anyone with its join link may ask to join."""

    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organised_meetings"
    )
    # The organiser's tenant when scheduled: tenant policies and the admin portal scope by it.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), validators=DURATION_VALIDATORS
    )
    join_token = models.CharField(
        max_length=64, unique=True, default=new_link_token, editable=False
    )
    lobby_bypass = models.CharField(
        _("who may bypass the lobby"),
        max_length=16,
        choices=Policy.LobbyBypass.choices,
        default=Policy.LobbyBypass.ORGANISATION,
    )
    anonymous_join_allowed = models.BooleanField(_("guests may join without signing in"))
    recording_allowed = models.BooleanField(_("recording allowed"))
    # The standing meeting behind its organiser's personal-room link; not listed as scheduled.
    is_personal_room = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["organiser", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES
                ),
                name="meeting_duration_1_to_1440_minutes",
            ),
            models.UniqueConstraint(
                fields=["organiser"],
                condition=models.Q(is_personal_room=True),
                name="one_personal_room_per_organiser",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self):
        return self.cancelled_at is not None


class Participant(models.Model):
    """One stay of one person in a meeting: present while `left_at` is empty."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    # The meeting's tenant (not the person's: guests come from anywhere), so that every row of a
    # tenant's meetings carries its key and the table can be distributed by tenant.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    # Empty for a guest who joined without signing in.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="meeting_participations",
    )
    display_name = models.CharField(_("name"), max_length=150)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["joined_at", "id"]
        indexes = [models.Index(fields=["meeting", "left_at"])]
        constraints = [
            # A signed-in person is in a meeting at most once at a time.
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=models.Q(left_at__isnull=True, user__isnull=False),
                name="participant_present_once",
            )
        ]

    def __str__(self):
        return self.display_name


class MeetingSettings(models.Model):
    """A user's personal meeting settings: created with the user, migrated by the upgrade.

    `customised` lists every personal field the user ever changed; the upgrade keeps those
    values and may apply the tenant's defaults to the others.
    """

    PERSONAL_FIELDS = (
        "default_duration_minutes",
        "lobby_bypass",
        "anonymous_join_allowed",
        "announce_join_leave",
        "recording_allowed",
        "time_zone",
        "language",
        "personal_room_token",
    )
    # The room link is unique per person, so no tenant default can ever apply to it.
    TENANT_DEFAULT_FIELDS = tuple(f for f in PERSONAL_FIELDS if f != "personal_room_token")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_settings"
    )
    default_duration_minutes = models.PositiveIntegerField(
        _("default meeting length (minutes)"), default=30, validators=DURATION_VALIDATORS
    )
    lobby_bypass = models.CharField(
        _("who may bypass the lobby"),
        max_length=16,
        choices=Policy.LobbyBypass.choices,
        default=Policy.LobbyBypass.ORGANISATION,
    )
    anonymous_join_allowed = models.BooleanField(
        _("guests may join without signing in"), default=True
    )
    announce_join_leave = models.BooleanField(
        _("announce when people join or leave"), default=False
    )
    recording_allowed = models.BooleanField(_("recording allowed"), default=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    personal_room_token = models.CharField(
        max_length=64, unique=True, default=new_link_token, editable=False
    )
    customised = models.JSONField(default=list, blank=True)
    # Written by the licensing app on upgrade; empty means the free plan.
    licensed_cap = models.PositiveIntegerField(null=True, blank=True)
    migrated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "meeting settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    default_duration_minutes__gte=1,
                    default_duration_minutes__lte=MAX_DURATION_MINUTES,
                ),
                name="settings_duration_1_to_1440_minutes",
            )
        ]

    def __str__(self):
        return f"Meeting settings of {self.user}"
