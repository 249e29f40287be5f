"""The audit log of the organisation: read-only, filtered, page by page."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import admin_required
from portal.forms import AuditFilter
from tenancy.selectors import audit_events

AUDIT_PER_PAGE = 50


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
