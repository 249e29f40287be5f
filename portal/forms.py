"""The forms of the admin centre's pages."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from licensing.plans import ENTRY_PLANS, plan_by_key
from licensing.services.seats import MAX_SEATS
from provisioning.models import ProvisioningToken
from sso.idp import MAX_SAML_METADATA_LENGTH
from sso.models import SsoConnection
from tenancy.forms import validate_person_name, validate_single_line
from tenancy.models import Announcement, Policy, Tenant
from tenancy.selectors import MEMBER_SORTS

from .models import SupportReply, SupportRequest


class MemberFilter(forms.Form):
    q = forms.CharField(required=False, max_length=254)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in MEMBER_SORTS])
    # Pages continue from a member (tenancy.selectors.members_page): their user id.
    after = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=150, validators=[validate_person_name])


class SeatCountForm(forms.Form):
    quantity = forms.IntegerField(label=_("Number of licences"), min_value=1, max_value=MAX_SEATS)


class PlanForm(forms.Form):
    plan = forms.ChoiceField(
        label=_("Plan"),
        choices=[(key, plan_by_key(key).name) for key in ENTRY_PLANS["meetings"]],
        widget=forms.RadioSelect,
    )


NOT_FIXED = [("", _("Not fixed: each member decides"))]
YES_NO = [*NOT_FIXED, ("true", _("Allowed")), ("false", _("Not allowed"))]


class PolicyForm(forms.Form):
    max_meeting_size = forms.IntegerField(
        label=_("Largest meeting (people)"),
        required=False,
        min_value=2,
        help_text=_("Empty: the plan's limit."),
    )
    lobby_bypass = forms.ChoiceField(
        label=_("Who may bypass the lobby"),
        required=False,
        choices=NOT_FIXED + list(Policy.LobbyBypass.choices),
    )
    recording_allowed = forms.TypedChoiceField(
        label=_("Recording"),
        required=False,
        choices=YES_NO,
        coerce=lambda value: value == "true",
        empty_value=None,
    )
    anonymous_join_allowed = forms.TypedChoiceField(
        label=_("Guests joining without signing in"),
        required=False,
        choices=YES_NO,
        coerce=lambda value: value == "true",
        empty_value=None,
    )

    def __init__(self, *args: Any, max_cap: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        size = self.fields["max_meeting_size"]
        size.validators.append(MaxValueValidator(max_cap))
        size.widget.attrs["max"] = max_cap

    @classmethod
    def initial_for(cls, policy: Policy | None) -> dict[str, Any]:
        if policy is None:
            return {}

        def as_choice(value: bool | None) -> str:
            return "" if value is None else ("true" if value else "false")

        return {
            "max_meeting_size": policy.max_meeting_size,
            "lobby_bypass": policy.lobby_bypass,
            "recording_allowed": as_choice(policy.recording_allowed),
            "anonymous_join_allowed": as_choice(policy.anonymous_join_allowed),
        }


class SignupModeForm(forms.Form):
    signup_mode = forms.ChoiceField(
        label=_("New sign-ups at your domain"),
        choices=Tenant.SignupMode.choices,
        widget=forms.RadioSelect,
    )


class TwoFactorRuleForm(forms.Form):
    two_factor_required = forms.BooleanField(
        label=_("Every member signs in with a second factor (an authenticator app or a passkey)"),
        required=False,
        help_text=_("Admins always do. Members without one are asked to set it up first."),
    )


class AuditFilter(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    actor = forms.CharField(label=_("Who (e-mail)"), required=False, max_length=254)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput
    )


class AnnouncementForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=Announcement.SUBJECT_MAX_LENGTH,
        validators=[validate_single_line],
    )
    body = forms.CharField(
        label=_("Message"), max_length=Announcement.BODY_MAX_LENGTH, widget=forms.Textarea
    )
    recipients = forms.ChoiceField(
        label=_("To"),
        choices=[("all", _("Every member")), ("selected", _("The selected members"))],
        widget=forms.RadioSelect,
        initial="all",
    )
    user = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        widget=forms.MultipleHiddenInput,
        error_messages={"invalid_choice": _("Only members of your organisation can be chosen.")},
    )

    def __init__(self, *args: Any, member_ids: Sequence[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(pk, pk) for pk in member_ids]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        selected = data.get("recipients") == "selected"
        if selected and not data.get("user") and not self.has_error("user"):
            self.add_error("user", _("Choose at least one member."))
        return data


class ProvisioningTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ProvisioningToken.NAME_MAX_LENGTH,
        help_text=_("Which identity provider uses it, e.g. “Microsoft Entra ID”."),
    )


class SsoStartForm(forms.Form):
    protocol = forms.ChoiceField(
        label=_("How your identity provider connects"),
        choices=SsoConnection.Protocol.choices,
        widget=forms.RadioSelect,
    )


class OidcConnectionForm(forms.Form):
    issuer = forms.URLField(
        label=_("Issuer URL"),
        max_length=1024,
        help_text=_("Quorum reads /.well-known/openid-configuration under it."),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=1024,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted. Leave empty to keep the saved one."),
    )


class SamlConnectionForm(forms.Form):
    metadata_url = forms.URLField(label=_("IdP metadata URL"), required=False, max_length=1024)
    metadata_xml = forms.CharField(
        label=_("Or the IdP metadata XML"),
        required=False,
        max_length=MAX_SAML_METADATA_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and bool(data.get("metadata_url")) == bool(data.get("metadata_xml")):
            raise forms.ValidationError(_("Give either the metadata URL or the metadata XML."))
        return data


class SsoEnforcementForm(forms.Form):
    enforced = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on"
    )


class SupportRequestForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SupportRequest.SUBJECT_MAX_LENGTH,
        validators=[validate_single_line],
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=SupportRequest.DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea,
        help_text=_("What happens, for whom, since when, and what you expected instead."),
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=SupportRequest.Severity.choices,
        initial=SupportRequest.Severity.NORMAL,
        widget=forms.RadioSelect,
    )


class SupportReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=SupportReply.BODY_MAX_LENGTH, widget=forms.Textarea
    )
