"""The admin centre's billing notices (licensing owns them; the portal's layout shows them)."""

from typing import Any

from django import template
from django.utils import timezone

from licensing.models import Subscription
from licensing.selectors import live_subscription_of

register = template.Library()


@register.inclusion_tag("licensing/_past_due_banner.html", takes_context=True)
def past_due_banner(context: dict[str, Any]) -> dict[str, Any]:
    """What an admin must do when a renewal failed, and how long is left before the tenant
    falls back to the free plan."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    subscription = live_subscription_of(request) if request and tenant is not None else None
    if subscription is None or subscription.status != Subscription.Status.PAST_DUE:
        return {"subscription": None}
    ends_at = subscription.grace_ends_at or timezone.now()
    return {
        "subscription": subscription,
        "tenant": tenant,
        "ends_at": ends_at,
        "days_left": max((ends_at - timezone.now()).days, 0),
    }
