"""Provisioning: the tokens an identity provider presents to Quorum's SCIM endpoints, and what
the identity provider needs to connect."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import admin_required, recent_authentication_required
from portal.forms import ProvisioningTokenForm
from provisioning.selectors import token_of, tokens_of
from provisioning.services import tokens
from tenancy.selectors import proven_domains_of


def _page(request, form, *, created=None, status=200):
    context = {
        "portal_section": "provisioning",
        "form": form,
        "tokens": tokens_of(request.tenant),
        "scim_base_url": request.build_absolute_uri("/scim/v2"),
        "domains": proven_domains_of(request.tenant),
        "created": created,
    }
    response = render(request, "portal/provisioning.html", context, status=status)
    if created is not None:
        response["Cache-Control"] = "no-store"  # the token's value is shown once
    return response


# The value of a token just made, kept in the session only until the page after it shows it
# (a reload then shows it no more and makes no second token).
NEW_TOKEN = "portal:new_provisioning_token"  # noqa: S105  # a session key


@admin_required
@require_GET
def provisioning(request):
    created = request.session.pop(NEW_TOKEN, None)
    if created is not None:
        created["token"] = token_of(request.tenant, pk=created["token"])
    return _page(request, ProvisioningTokenForm(), created=created)


# Making a token hands out a lasting credential: the admin proves who they are again first.
@admin_required
@recent_authentication_required
@require_POST
def create_token(request):
    form = ProvisioningTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    token, value = tokens.create_token(
        tenant=request.tenant, actor=request.user, name=form.cleaned_data["name"]
    )
    request.session[NEW_TOKEN] = {"token": token.pk, "value": value}
    return redirect("portal:provisioning")


@admin_required
@require_POST
def revoke_token(request, pk):
    token = token_of(request.tenant, pk=pk)
    if token is None:
        raise Http404("No such token.")
    tokens.revoke_token(tenant=request.tenant, actor=request.user, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("portal:provisioning")
