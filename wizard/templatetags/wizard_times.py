"""When the next DNS check runs and when the last one ran, said to the second under a minute:
Django's timeuntil says "in 0 minutes" 54 seconds before."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()
MINUTE = 60


@register.filter
def time_from_now(moment: datetime | None) -> str:
    """ "in 54 seconds", "in 3 minutes", or "any moment now" once due."""
    if moment is None:
        return ""
    seconds = int((moment - timezone.now()).total_seconds())
    if seconds < 1:
        return _("any moment now")
    if seconds < MINUTE:
        return ngettext("in %(seconds)d second", "in %(seconds)d seconds", seconds) % {
            "seconds": seconds
        }
    return _("in %(time)s") % {"time": timeuntil(moment)}


@register.filter
def time_ago(moment: datetime | None) -> str:
    """ "12 seconds ago", "3 minutes ago", or "just now"."""
    if moment is None:
        return ""
    seconds = int((timezone.now() - moment).total_seconds())
    if seconds < 1:
        return _("just now")
    if seconds < MINUTE:
        return ngettext("%(seconds)d second ago", "%(seconds)d seconds ago", seconds) % {
            "seconds": seconds
        }
    return _("%(time)s ago") % {"time": timesince(moment)}
