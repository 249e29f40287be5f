"""The audit log (read-only) and "tell your users" announcements."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from licensing.selectors import live_subscription
from portal.access import admin_required
from tenancy import services
from tenancy.exceptions import TenancyError
from tenancy.forms import validate_single_line
from tenancy.models import Announcement
from tenancy.selectors import announcement_progress, audit_events
from tenancy.tasks import queue_announcement

AUDIT_PER_PAGE = 50


class AuditFilter(forms.Form):
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=64)
    actor = forms.CharField(label=gettext_lazy("Who (e-mail)"), required=False, max_length=254)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput
    )


@admin_required
@require_GET
def audit(request):
    form = AuditFilter(request.GET)
    values = form.cleaned_data if form.is_valid() else {}
    page = values.get("page") or 1
    start = (page - 1) * AUDIT_PER_PAGE
    events = list(
        audit_events(
            request.tenant,
            action=values.get("action") or "",
            actor=values.get("actor") or "",
            since=values.get("since"),
            until=values.get("until"),
        )[start : start + AUDIT_PER_PAGE + 1]
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "portal_section": "audit",
        "form": form,
        "events": events[:AUDIT_PER_PAGE],
        "page": page,
        "has_next": len(events) > AUDIT_PER_PAGE,
        "query": query.urlencode(),
    }
    return render(request, "portal/audit.html", context, status=200 if form.is_valid() else 400)


class AnnouncementForm(forms.Form):
    subject = forms.CharField(
        label=gettext_lazy("Subject"), max_length=200, validators=[validate_single_line]
    )
    body = forms.CharField(label=gettext_lazy("Message"), max_length=10_000, widget=forms.Textarea)
    recipients = forms.ChoiceField(
        label=gettext_lazy("To"),
        choices=[
            ("all", gettext_lazy("Every member")),
            ("selected", gettext_lazy("The selected members")),
        ],
        widget=forms.RadioSelect,
        initial="all",
    )
    user = forms.TypedMultipleChoiceField(
        required=False, coerce=int, widget=forms.MultipleHiddenInput
    )

    def __init__(self, *args, member_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(pk, pk) for pk in member_ids]


def _default_announcement(request):
    subscription = live_subscription(request.tenant)
    context = {
        "domain": request.tenant.domain,
        "plan": subscription.plan_details.name,
        "admin": request.user.name,
        "email": request.user.email,
    }
    return {
        "subject": _("%(domain)s moved to %(plan)s") % context,
        "body": _(
            "Hello,\n\nOur organisation %(domain)s upgraded Quorum to %(plan)s: your meetings now "
            "take up to 300 people, and your personal meeting settings were kept.\n\nYour admin "
            "is %(admin)s (%(email)s).\n"
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
    item = get_object_or_404(Announcement.objects.for_tenant(request.tenant), pk=pk)
    mailed, total = announcement_progress(item)
    template = (
        "portal/_announcement_progress.html"
        if request.headers.get("HX-Request")
        else ("portal/announcement.html")
    )
    return render(
        request,
        template,
        {"portal_section": "announcements", "announcement": item, "mailed": mailed, "total": total},
    )
