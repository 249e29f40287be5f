class LicensingError(Exception):
    """A licensing rule refused an action; `message` is shown to the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class PaymentError(LicensingError):
    """Stripe did not take the payment (declined, authentication needed, unreachable).

    `state` is what the purchase attempt records: failed, or requires_action."""

    def __init__(self, message, state="failed"):
        super().__init__(message)
        self.state = state
