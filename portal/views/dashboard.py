from django.shortcuts import render

from portal.access import admin_required
from portal.selectors import dashboard_summary


@admin_required
def dashboard(request):
    context = {"portal_section": "dashboard", **dashboard_summary(request.tenant)}
    return render(request, "portal/dashboard.html", context)
