"""The wizard's address for pages of lower apps, which may not name its routes."""

from django.http import HttpRequest
from django.urls import reverse


def upgrade_link(request: HttpRequest) -> dict[str, str]:
    """`upgrade_url`: where the Upgrade buttons of meetings lead, the wizard entered from
    meetings."""
    return {"upgrade_url": f"{reverse('wizard:start')}?entry=meetings"}
