from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import QuorumError


class MeetingError(QuorumError):
    """A business rule of meetings refused an action; `message` is shown to the user."""

    message = _("This action is not possible.")


class NoTenantError(MeetingError):
    message = _("Scheduling needs a verified work address; yours has no organisation yet.")


class MeetingCancelledError(MeetingError):
    message = _("This meeting was cancelled.")


class GuestJoinRefusedError(MeetingError):
    message = _("The organiser of this meeting asks everyone to sign in before joining.")


class MeetingFullError(MeetingError):
    """Joining would exceed the organiser's participant cap; says which rule set the cap
    (a `selectors.CapRule` value)."""

    def __init__(self, *, cap, rule):
        self.cap = cap
        self.rule = rule
        super().__init__(full_message(rule, cap))


def full_message(rule_name, cap):
    """Why a meeting of this cap is full, in the user's language."""
    messages = {
        "free": ngettext(
            "This meeting is full: the free plan allows %(cap)d person.",
            "This meeting is full: the free plan allows %(cap)d people.",
            cap,
        ),
        "free_after_60_days": ngettext(
            "This meeting is full: the free plan allows %(cap)d person after 60 days.",
            "This meeting is full: the free plan allows %(cap)d people after 60 days.",
            cap,
        ),
        "licensed": ngettext(
            "This meeting is full: your organisation's plan allows %(cap)d person.",
            "This meeting is full: your organisation's plan allows %(cap)d people.",
            cap,
        ),
        "policy": ngettext(
            "This meeting is full: your organisation allows %(cap)d person per meeting.",
            "This meeting is full: your organisation allows %(cap)d people per meeting.",
            cap,
        ),
    }
    return messages[rule_name] % {"cap": cap}
