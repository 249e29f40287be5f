"""Help & support: the admin opens service requests, follows their status and the support
staff's replies, and answers them. Staff answer in Django's admin (portal/admin.py)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.access import admin_required
from portal.exceptions import SupportError
from portal.forms import SupportReplyForm, SupportRequestForm
from portal.selectors import support_request_with_replies, support_requests
from portal.services import add_support_reply, open_support_request


@admin_required
@require_http_methods(["GET", "POST"])
def support(request):
    form = SupportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            opened = open_support_request(
                tenant=request.tenant, actor=request.user, **form.cleaned_data
            )
        except SupportError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your request was sent to support."))
            return redirect("portal:support_request", pk=opened.pk)
    context = {
        "portal_section": "support",
        "form": form,
        "support_requests": support_requests(request.tenant),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/support.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def support_request(request, pk):
    opened = support_request_with_replies(request.tenant, pk)
    form = SupportReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            add_support_reply(
                support_request=opened,
                author=request.user,
                body=form.cleaned_data["body"],
                from_support=False,
                base_url=request.build_absolute_uri("/"),
            )
        except SupportError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your reply was added."))
            return redirect("portal:support_request", pk=opened.pk)
    context = {"portal_section": "support", "support_request": opened, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/support_request.html", context, status=status)
