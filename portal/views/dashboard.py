from django.shortcuts import render

from domains.models import DomainClaim
from licensing.selectors import licence_counts, live_subscription
from portal.access import admin_required
from tenancy.models import AuditEvent
from tenancy.selectors import member_count


@admin_required
def dashboard(request):
    tenant = request.tenant
    subscription = live_subscription(tenant)
    counts = licence_counts(subscription, kept=True) if subscription else None
    context = {
        "portal_section": "dashboard",
        "subscription": subscription,
        "plan": subscription.plan_details if subscription else None,
        "counts": counts,
        "next_amount": (
            subscription.plan_details.total(subscription.quantity) / 100 if subscription else None
        ),
        "members": member_count(tenant),
        "domain_claim": DomainClaim.objects.for_tenant(tenant)
        .filter(status=DomainClaim.Status.USED)
        .select_related("claimant")
        .first(),
        "events": AuditEvent.objects.for_tenant(tenant).select_related("actor")[:8],
    }
    return render(request, "portal/dashboard.html", context)
