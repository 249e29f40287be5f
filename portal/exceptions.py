from core.errors import QuorumError


class SupportError(QuorumError):
    """A rule of Help & support refused an action; the message is shown to the person."""
