from core.errors import QuorumError


class TenancyError(QuorumError):
    """A business rule of tenancy refused an action; the message is shown to the user."""


class InvalidDomainError(TenancyError):
    pass


class ConsumerDomainError(TenancyError):
    pass


class AddressTooLongError(TenancyError):
    pass
