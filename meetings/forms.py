from datetime import timedelta
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenancy.forms import validate_person_name
from tenancy.models import Policy

from .models import MAX_DURATION_MINUTES, MeetingSettings, known_time_zones, time_zone_names

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _fix_by_policy(form, fixed):
    """Fields the tenant's admin fixed are shown with the policy's value and cannot change."""
    for field, value in fixed.items():
        if field in form.fields:
            form.fields[field].disabled = True
            form.initial[field] = value
            form.fields[field].help_text = _("Fixed by your organisation's admin.")


class MeetingForm(forms.Form):
    """Schedule or edit a meeting; times are read in the user's own time zone."""

    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME_LOCAL)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DATETIME_LOCAL)
    lobby_bypass = forms.ChoiceField(
        label=_("Who may bypass the lobby"), choices=Policy.LobbyBypass.choices
    )
    anonymous_join_allowed = forms.BooleanField(
        label=_("Guests may join without signing in"), required=False
    )
    recording_allowed = forms.BooleanField(label=_("Recording allowed"), required=False)

    def __init__(self, *args, fixed=None, **kwargs):
        super().__init__(*args, **kwargs)
        _fix_by_policy(self, fixed or {})

    @classmethod
    def initial_for(cls, meeting):
        return {
            "title": meeting.title,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "lobby_bypass": meeting.lobby_bypass,
            "anonymous_join_allowed": meeting.anonymous_join_allowed,
            "recording_allowed": meeting.recording_allowed,
        }

    def clean(self):
        super().clean()
        data = self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at:
            if ends_at <= starts_at:
                self.add_error("ends_at", _("The meeting must end after it starts."))
            elif ends_at - starts_at > timedelta(minutes=MAX_DURATION_MINUTES):
                self.add_error("ends_at", _("A meeting lasts at most 24 hours."))
            elif ends_at - starts_at < timedelta(minutes=1):
                self.add_error("ends_at", _("A meeting lasts at least one minute."))
            else:
                data["duration_minutes"] = int((ends_at - starts_at).total_seconds() // 60)
        return data

    def meeting_fields(self):
        """The cleaned values, as the services take them."""
        fields = (
            "title",
            "starts_at",
            "duration_minutes",
            "lobby_bypass",
            "anonymous_join_allowed",
            "recording_allowed",
        )
        return {field: self.cleaned_data[field] for field in fields}


class GuestJoinForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name"), max_length=150, validators=[validate_person_name]
    )

    def clean_display_name(self):
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise ValidationError(_("Please enter your name."))
        return name


def _time_zone_choices():
    return [(name, name) for name in sorted(time_zone_names())]


class MeetingSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)

    class Meta:
        model = MeetingSettings
        fields = [
            "default_duration_minutes",
            "lobby_bypass",
            "anonymous_join_allowed",
            "announce_join_leave",
            "recording_allowed",
            "time_zone",
            "language",
        ]

    def __init__(self, *args, fixed=None, **kwargs):
        super().__init__(*args, **kwargs)
        saved = self.instance.time_zone
        if saved not in time_zone_names() and saved in known_time_zones():
            # Saved under an older name: offered as it is, so that saving the page keeps it.
            time_zone = cast(forms.ChoiceField, self.fields["time_zone"])
            time_zone.choices = [(saved, saved), *_time_zone_choices()]
        _fix_by_policy(self, fixed or {})

    def changed_values(self):
        """What the user asked to change; policy-fixed fields are never the user's to change."""
        return {
            field: self.cleaned_data[field]
            for field in self.changed_data
            if not self.fields[field].disabled
        }
