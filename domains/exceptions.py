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


class ClaimExpiredError(DomainsError):
    def __init__(self, domain):
        super().__init__(
            _(
                "Your confirmation of %(domain)s has expired: it was not used within 7 days. "
                "Confirm the domain again, then buy."
            )
            % {"domain": domain}
        )


class RecordGoneError(DomainsError):
    def __init__(self, domain, value):
        super().__init__(
            _(
                "The record %(value)s is no longer at %(domain)s, and we look for it again when "
                "you buy. Nothing was charged: publish the record again, then buy."
            )
            % {"domain": domain, "value": value}
        )


class RecordUncheckableError(DomainsError):
    def __init__(self, domain):
        super().__init__(
            _(
                "We could not reach the DNS servers of %(domain)s to look for your record again. "
                "Nothing was charged: please try again in a moment."
            )
            % {"domain": domain}
        )


class DomainNotAddableError(DomainsError):
    """The domain cannot be added to the organisation (its message says why)."""


class DomainHeldError(DomainsError):
    def __init__(self, domain, masked_admin):
        self.masked_admin = masked_admin
        super().__init__(
            _(
                "%(domain)s belongs to another organisation on Quorum, whose admin is "
                "%(admin)s. Ask them to remove it from their organisation first."
            )
            % {"domain": domain, "admin": masked_admin}
        )


class DomainInUseError(DomainsError):
    def __init__(self, domain, members):
        super().__init__(
            ngettext(
                "%(count)d member has an address at %(domain)s: the domain stays while they do.",
                "%(count)d members have an address at %(domain)s: the domain stays while they do.",
                members,
            )
            % {"count": members, "domain": domain}
        )
