from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def launcher(request):
    """The tiles of the app launcher in the header of every page."""
    if not request.user.is_authenticated:
        return {}
    admin_url = reverse("wizard:start") + "?entry=admin"
    return {
        "launcher_tiles": [
            {"key": "meetings", "label": _("Meetings"), "url": reverse("meetings:list")},
            {"key": "admin", "label": _("Admin"), "url": admin_url},
        ]
    }
