""" "Tell your users": compose, preview and send an announcement, then follow its mailing."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from licensing.selectors import paid_subscription
from portal.access import admin_required
from portal.forms import AnnouncementForm
from tenancy.exceptions import TenancyError
from tenancy.selectors import announcement_of, announcement_progress
from tenancy.services import announcements as services
from tenancy.tasks import queue_announcement


def _default_announcement(request):
    plan = paid_subscription(request.tenant).plan_details
    context = {
        "domain": request.tenant.domain,
        "plan": plan.name,
        "cap": plan.meeting_cap,
        "admin": request.user.name,
        "email": request.user.email,
    }
    return {
        "subject": _("%(domain)s moved to %(plan)s") % context,
        "body": _(
            "Hello,\n\nOur organisation %(domain)s upgraded Quorum to %(plan)s: your meetings now "
            "take up to %(cap)d people, and your personal meeting settings were kept.\n\nYour "
            "admin is %(admin)s (%(email)s).\n"
        )
        % context,
    }


@admin_required
@require_http_methods(["GET", "POST"])
def announce(request):
    """Compose, preview, then send: nothing is sent before the admin saw the preview."""
    selected = request.POST.getlist("user") or request.GET.getlist("user")
    # Ids as the database keeps them: "²" is a digit to isdigit() but no number; 19 digits and
    # more overflow a bigint.
    member_ids = [int(pk) for pk in selected if pk.isdecimal() and len(pk) < 19]
    if request.method == "GET":
        initial = {
            **_default_announcement(request),
            "user": member_ids,
            "recipients": "selected" if member_ids else "all",
        }
        form = AnnouncementForm(initial=initial, member_ids=member_ids)
        return render(
            request,
            "portal/announce.html",
            {"portal_section": "announcements", "form": form, "selected": member_ids},
        )
    form = AnnouncementForm(request.POST, member_ids=member_ids)
    if not form.is_valid():
        return render(
            request,
            "portal/announce.html",
            {"portal_section": "announcements", "form": form, "selected": member_ids},
            status=400,
        )
    data = form.cleaned_data
    if request.POST.get("step") != "send":
        return render(
            request,
            "portal/announce.html",
            {
                "portal_section": "announcements",
                "form": form,
                "preview": data,
                "selected": member_ids,
            },
        )
    try:
        announcement = services.create_announcement(
            tenant=request.tenant,
            actor=request.user,
            subject=data["subject"],
            body=data["body"],
            user_ids=data["user"] if data["recipients"] == "selected" else None,
        )
    except TenancyError as error:
        messages.error(request, error.message)
        return render(
            request,
            "portal/announce.html",
            {"portal_section": "announcements", "form": form, "selected": member_ids},
            status=400,
        )
    transaction.on_commit(lambda: queue_announcement(announcement.pk))
    return redirect("portal:announcement", pk=announcement.pk)


@admin_required
@require_GET
def announcement(request, pk):
    """Progress of one announcement; the page polls itself (htmx) until everyone is mailed."""
    item = announcement_of(request.tenant, pk=pk)
    if item is None:
        raise Http404("No such announcement.")
    progress = announcement_progress(item)
    template = (
        "portal/_announcement_progress.html"
        if request.headers.get("HX-Request")
        else ("portal/announcement.html")
    )
    return render(
        request,
        template,
        {"portal_section": "announcements", "announcement": item, "progress": progress},
    )
