from django.shortcuts import render

from core.pagecache import kept_page
from licensing.selectors import keep_live_subscription
from portal.access import admin_required
from portal.selectors import dashboard_summary
from portal.templatetags.domain_banner import keep_no_troubled_domains


@kept_page
@admin_required
def dashboard(request):
    summary = dashboard_summary(request.tenant)
    # For the layout's banners: read with the summary, not again.
    keep_live_subscription(request, summary["subscription"])
    if summary["domains_troubled"] is False:
        keep_no_troubled_domains(request)
    context = {"portal_section": "dashboard", **summary}
    return render(request, "portal/dashboard.html", context)
