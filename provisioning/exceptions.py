from core.errors import QuorumError


class ProvisioningError(QuorumError):
    """A provisioning rule refused a change (SCIM: 400 invalidValue); the message says why."""


class AddressTakenError(ProvisioningError):
    """The address belongs to another account or resource (SCIM: 409 uniqueness)."""
