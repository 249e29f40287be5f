"""The admin centre's banner about domains whose DNS record is missing or that are suspended:
shown on every page of the admin centre, since a suspended domain changes who joins."""

from typing import Any

from django import template
from django.http import HttpRequest
from django.template import Context

from domains.dnscheck import record_value
from domains.selectors import domains_needing_attention

register = template.Library()


# Set on a request that already knows no domain needs attention (the dashboard's summary).
_NONE_TROUBLED = "_no_troubled_domains"


def keep_no_troubled_domains(request: HttpRequest) -> None:
    setattr(request, _NONE_TROUBLED, True)


@register.inclusion_tag("portal/_domain_banner.html", takes_context=True)
def domain_banner(context: Context) -> dict[str, Any]:
    request = context["request"]
    if getattr(request, _NONE_TROUBLED, False):
        return {"troubled": []}
    tenant = request.tenant
    return {
        "troubled": [
            {"domain": domain, "record_value": record_value(domain.token)}
            for domain in domains_needing_attention(tenant)
        ]
    }
