from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import QuorumError


class DomainsError(QuorumError):
    """A business rule of domain claims refused an action; `message` is shown to the user."""


class NoTenantError(DomainsError):
    def __init__(self):
        super().__init__(_("Only members of an organisation can become its admin."))


class ManagedTenantError(DomainsError):
    def __init__(self, admins):
        self.admins = list(admins)
        names = ", ".join(f"{admin.name} <{admin.email}>" for admin in self.admins)
        super().__init__(
            _("Your organisation already has an admin: %(names)s. Ask them for changes.")
            % {"names": names}
        )


class CheckTooSoonError(DomainsError):
    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__(
            ngettext(
                "The domain was checked a moment ago. Try again in %(seconds)d second.",
                "The domain was checked a moment ago. Try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds}
        )


class ClaimNotPendingError(DomainsError):
    def __init__(self):
        super().__init__(_("This claim is no longer waiting for its DNS record."))


class ClaimNotVerifiedError(DomainsError):
    def __init__(self):
        super().__init__(_("The domain of this claim is not confirmed."))
