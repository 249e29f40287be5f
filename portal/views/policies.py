"""Policies for every member's meetings, the sign-up rule of the domain and the two-factor rule."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from licensing.selectors import paid_subscription
from portal.access import admin_required, recent_authentication_required
from portal.forms import PolicyForm, SignupModeForm, TwoFactorRuleForm
from tenancy.exceptions import TenancyError
from tenancy.selectors import policy_of
from tenancy.services import membership as membership_services
from tenancy.services import policies as policy_services
from tenancy.services import security


@admin_required
@recent_authentication_required
@require_http_methods(["GET", "POST"])
def policies(request):
    tenant = request.tenant
    max_cap = paid_subscription(tenant).plan_details.meeting_cap
    policy = policy_of(tenant)
    policy_form = PolicyForm(initial=PolicyForm.initial_for(policy), max_cap=max_cap)
    signup_form = SignupModeForm(initial={"signup_mode": tenant.signup_mode})
    two_factor_form = TwoFactorRuleForm(initial={"two_factor_required": tenant.two_factor_required})
    status = 200
    if request.method == "POST":
        if request.POST.get("form") not in ("policy", "signup", "two_factor"):
            # Read as the policy form, its empty fields would free every policy.
            messages.error(
                request, _("Unknown form: nothing was saved. Reload the page and try again.")
            )
        elif request.POST.get("form") == "two_factor":
            two_factor_form = TwoFactorRuleForm(request.POST)
            if two_factor_form.is_valid():
                security.set_two_factor_required(
                    tenant=tenant,
                    actor=request.user,
                    required=two_factor_form.cleaned_data["two_factor_required"],
                )
                messages.success(request, _("The two-factor rule was saved."))
                return redirect("portal:policies")
        elif request.POST.get("form") == "signup":
            signup_form = SignupModeForm(request.POST)
            if signup_form.is_valid():
                membership_services.set_signup_mode(
                    tenant=tenant, actor=request.user, mode=signup_form.cleaned_data["signup_mode"]
                )
                messages.success(request, _("The sign-up rule was saved."))
                return redirect("portal:policies")
        else:
            policy_form = PolicyForm(request.POST, max_cap=max_cap)
            if policy_form.is_valid():
                try:
                    policy_services.set_policy(
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
        "two_factor_form": two_factor_form,
        "max_cap": max_cap,
    }
    return render(request, "portal/policies.html", context, status=status)
