"""The wizard's address for pages of lower apps, which may not name its routes."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from tenancy.models import User

from .selectors import welcome_to_show


def upgrade_link(request: HttpRequest) -> dict[str, str]:
    """`upgrade_url`: where the Upgrade buttons of meetings lead, the wizard entered from
    meetings."""
    return {"upgrade_url": f"{reverse('wizard:start')}?entry=meetings"}


def getting_started_card(request: HttpRequest) -> dict[str, object]:
    """`getting_started`: for a member of a managed tenant, where their Getting started page is
    and whether the home page shows its card (read only by the pages that use it)."""

    def card() -> dict[str, object] | None:
        membership = getattr(request, "membership", None)
        user = request.user
        if membership is None or not membership.tenant.is_managed or not isinstance(user, User):
            return None
        return {
            "url": reverse("wizard:getting_started"),
            "dismiss_url": reverse("wizard:dismiss_getting_started"),
            "show_card": welcome_to_show(membership.tenant, user=user),
        }

    return {"getting_started": SimpleLazyObject(card)}
