class TenancyError(Exception):
    """A business rule of tenancy refused an action; the message is shown to the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidDomainError(TenancyError):
    pass


class ConsumerDomainError(TenancyError):
    pass


class AddressTooLongError(TenancyError):
    pass
