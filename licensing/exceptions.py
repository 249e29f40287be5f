from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import QuorumError


class LicensingError(QuorumError):
    """A licensing rule refused an action; `message` is shown to the user."""


class NotAMemberError(LicensingError):
    message = gettext_lazy("Only verified members of an organisation can buy licences.")


class NoLiveSubscription(LicensingError):
    message = gettext_lazy("Your organisation has no active subscription.")


class PaymentError(LicensingError):
    """The one error of the Stripe gateway: Stripe did not take the payment, or could not be
    reached. Each cause has its own sentence for the user.

    `needs_authentication`: the bank asks the buyer to authenticate (3-D Secure); when the
    payment itself waits for it, `client_secret` is what Stripe.js needs to run it."""

    def __init__(
        self,
        message: str,
        *,
        needs_authentication: bool = False,
        client_secret: str | None = None,
    ) -> None:
        super().__init__(message)
        self.needs_authentication = needs_authentication
        self.client_secret = client_secret

    @classmethod
    def declined(cls, reason: str | None) -> "PaymentError":
        return cls(
            _("Your card was declined (%(reason)s). Nothing was charged; try another card.")
            % {"reason": reason or _("no reason given")}
        )

    @classmethod
    def unreachable(cls) -> "PaymentError":
        return cls(
            _(
                "We could not complete the payment with our payment provider. Please try again "
                "in a moment: you will never be charged twice."
            )
        )

    @classmethod
    def processing(cls) -> "PaymentError":
        return cls(
            _(
                "Your bank is still processing the payment. It applies as soon as it is "
                "through: there is no need to pay again."
            )
        )

    @classmethod
    def authentication_needed(cls, *, client_secret: str | None = None) -> "PaymentError":
        if client_secret:
            return cls(
                _(
                    "Your bank asks you to authenticate this payment. Nothing was charged "
                    "yet: authenticate it with your bank to finish."
                ),
                needs_authentication=True,
                client_secret=client_secret,
            )
        return cls(
            _(
                "Your bank asks you to authenticate this payment. Nothing was charged: please "
                "confirm the card with your bank in the card form, or use another card."
            ),
            needs_authentication=True,
        )


class InvalidStripeEvent(LicensingError):
    """A webhook request that is not a well-formed event signed with our webhook secret."""
