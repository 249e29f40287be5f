"""Single sign-on: connect the organisation's identity provider, test it, enforce it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import admin_required, recent_authentication_required
from portal.forms import OidcConnectionForm, SamlConnectionForm, SsoEnforcementForm, SsoStartForm
from sso import services, signin
from sso.exceptions import SsoError
from sso.selectors import break_glass_admins, connection_of
from tenancy.selectors import proven_domains_of


@admin_required
@require_http_methods(["GET", "POST"])
def sso(request):
    tenant = request.tenant
    connection = connection_of(tenant)
    start_form = SsoStartForm()
    oidc_form = OidcConnectionForm(
        initial={"issuer": connection.issuer, "client_id": connection.client_id}
        if connection
        else None
    )
    saml_form = SamlConnectionForm(
        initial={"metadata_url": connection.idp_metadata_url} if connection else None
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("form")
        try:
            if action == "start":
                start_form = SsoStartForm(request.POST)
                if start_form.is_valid():
                    services.start_connection(
                        tenant=tenant, actor=request.user, **start_form.cleaned_data
                    )
                    return redirect("portal:sso")
            elif action == "oidc":
                oidc_form = OidcConnectionForm(request.POST)
                if oidc_form.is_valid():
                    services.save_oidc_details(
                        tenant=tenant, actor=request.user, **oidc_form.cleaned_data
                    )
                    messages.success(request, _("Saved. Now test the sign-in."))
                    return redirect("portal:sso")
            elif action == "saml":
                saml_form = SamlConnectionForm(request.POST)
                if saml_form.is_valid():
                    services.save_saml_details(
                        tenant=tenant, actor=request.user, **saml_form.cleaned_data
                    )
                    messages.success(request, _("Saved. Now test the sign-in."))
                    return redirect("portal:sso")
            elif action == "remove":
                services.remove_connection(tenant=tenant, actor=request.user)
                messages.success(request, _("The identity provider was disconnected."))
                return redirect("portal:sso")
        except SsoError as error:
            # Shown in place, with the form as typed (the secret is never sent back).
            messages.error(request, error.message)
        status = 400
    context = {
        "portal_section": "sso",
        "connection": connection,
        "for_the_idp": signin.for_the_idp(request, connection) if connection else None,
        "domains": proven_domains_of(tenant),
        "admins": break_glass_admins(tenant),
        "start_form": start_form,
        "oidc_form": oidc_form,
        "saml_form": saml_form,
    }
    return render(request, "portal/sso.html", context, status=status)


@admin_required
@require_POST
def sso_test(request):
    """Sign in through the IdP as oneself: proves the connection, signs nobody in."""
    connection = connection_of(request.tenant)
    if connection is None or not connection.is_configured:
        messages.error(request, _("Save your identity provider's details before testing them."))
        return redirect("portal:sso")
    return signin.start(
        request,
        connection=connection,
        purpose=signin.Purpose.TEST,
        next_url=reverse("portal:sso"),
    )


@admin_required
@require_POST
@recent_authentication_required
def sso_enforce(request):
    form = SsoEnforcementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether single sign-on is enforced."))
        return redirect("portal:sso")
    enforced = form.cleaned_data["enforced"]
    try:
        services.set_enforcement(tenant=request.tenant, actor=request.user, enforced=enforced)
    except SsoError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Single sign-on is now enforced.")
            if enforced
            else _("Single sign-on is no longer enforced: everyone may use a password again."),
        )
    return redirect("portal:sso")
