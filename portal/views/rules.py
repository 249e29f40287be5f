"""Policies for every member's meetings, and the sign-up rule of the domain."""

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from licensing.selectors import live_subscription
from portal.access import admin_required
from tenancy import services
from tenancy.exceptions import TenancyError
from tenancy.models import Policy, Tenant

NOT_FIXED = [("", gettext_lazy("Not fixed: each member decides"))]
YES_NO = [*NOT_FIXED, ("true", gettext_lazy("Allowed")), ("false", gettext_lazy("Not allowed"))]


class PolicyForm(forms.Form):
    max_meeting_size = forms.IntegerField(
        label=gettext_lazy("Largest meeting (people)"),
        required=False,
        min_value=2,
        help_text=gettext_lazy("Empty: the plan's limit."),
    )
    lobby_bypass = forms.ChoiceField(
        label=gettext_lazy("Who may bypass the lobby"),
        required=False,
        choices=NOT_FIXED + list(Policy.LobbyBypass.choices),
    )
    recording_allowed = forms.TypedChoiceField(
        label=gettext_lazy("Recording"),
        required=False,
        choices=YES_NO,
        coerce=lambda value: value == "true",
        empty_value=None,
    )
    anonymous_join_allowed = forms.TypedChoiceField(
        label=gettext_lazy("Guests joining without signing in"),
        required=False,
        choices=YES_NO,
        coerce=lambda value: value == "true",
        empty_value=None,
    )

    def __init__(self, *args, max_cap, **kwargs):
        super().__init__(*args, **kwargs)
        size = self.fields["max_meeting_size"]
        size.validators.append(MaxValueValidator(max_cap))
        size.widget.attrs["max"] = max_cap


class SignupModeForm(forms.Form):
    signup_mode = forms.ChoiceField(
        label=gettext_lazy("New sign-ups at your domain"),
        choices=Tenant.SignupMode.choices,
        widget=forms.RadioSelect,
    )


def _initial(policy):
    if policy is None:
        return {}

    def as_choice(value):
        return "" if value is None else ("true" if value else "false")

    return {
        "max_meeting_size": policy.max_meeting_size,
        "lobby_bypass": policy.lobby_bypass,
        "recording_allowed": as_choice(policy.recording_allowed),
        "anonymous_join_allowed": as_choice(policy.anonymous_join_allowed),
    }


@admin_required
@require_http_methods(["GET", "POST"])
def policies(request):
    tenant = request.tenant
    max_cap = live_subscription(tenant).plan_details.meeting_cap
    policy = Policy.objects.for_tenant(tenant).first()
    policy_form = PolicyForm(initial=_initial(policy), max_cap=max_cap)
    signup_form = SignupModeForm(initial={"signup_mode": tenant.signup_mode})
    status = 200
    if request.method == "POST":
        if request.POST.get("form") not in ("policy", "signup"):
            # Read as the policy form, its empty fields would free every policy.
            messages.error(
                request, _("Unknown form: nothing was saved. Reload the page and try again.")
            )
        elif request.POST.get("form") == "signup":
            signup_form = SignupModeForm(request.POST)
            if signup_form.is_valid():
                services.set_signup_mode(
                    tenant=tenant, actor=request.user, mode=signup_form.cleaned_data["signup_mode"]
                )
                messages.success(request, _("The sign-up rule was saved."))
                return redirect("portal:policies")
        else:
            policy_form = PolicyForm(request.POST, max_cap=max_cap)
            if policy_form.is_valid():
                try:
                    services.set_policy(
                        tenant=tenant,
                        actor=request.user,
                        max_cap=max_cap,
                        values=policy_form.cleaned_data,
                    )
                except TenancyError as error:
                    messages.error(request, error.message)
                else:
                    messages.success(request, _("The policies were saved."))
                    return redirect("portal:policies")
        status = 400
    context = {
        "portal_section": "policies",
        "policy_form": policy_form,
        "signup_form": signup_form,
        "max_cap": max_cap,
    }
    return render(request, "portal/policies.html", context, status=status)
