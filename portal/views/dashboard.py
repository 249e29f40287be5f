from django.shortcuts import render

from licensing.selectors import keep_live_subscription
from portal.access import admin_required
from portal.selectors import dashboard_summary


@admin_required
def dashboard(request):
    summary = dashboard_summary(request.tenant)
    keep_live_subscription(request, summary["subscription"])  # for the past-due banner
    context = {"portal_section": "dashboard", **summary}
    return render(request, "portal/dashboard.html", context)
