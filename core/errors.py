"""The one error base of Quorum: a business rule refused an action, with a message for the user."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class QuorumError(Exception):
    """Raised by a service when a rule refuses the action; `message` is shown to the user as is.

    Subclasses may set a class-level `message` and be raised without arguments."""

    message: "str | StrPromise" = ""

    def __init__(self, message: "str | StrPromise | None" = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))
