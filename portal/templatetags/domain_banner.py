"""The admin centre's banner about domains whose DNS record is missing or that are suspended:
shown on every page of the admin centre, since a suspended domain changes who joins."""

from typing import Any

from django import template
from django.template import Context

from domains.dnscheck import record_value
from domains.selectors import domains_needing_attention

register = template.Library()


@register.inclusion_tag("portal/_domain_banner.html", takes_context=True)
def domain_banner(context: Context) -> dict[str, Any]:
    tenant = context["request"].tenant
    return {
        "troubled": [
            {"domain": domain, "record_value": record_value(domain.token)}
            for domain in domains_needing_attention(tenant)
        ]
    }
