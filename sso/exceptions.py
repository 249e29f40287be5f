from core.errors import QuorumError


class SsoError(QuorumError):
    """A rule of single sign-on refused an action; `message` is shown to the person as it is."""
