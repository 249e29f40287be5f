import pytest

from tests.fixtures.scim import scim_client


@pytest.fixture
def entra(contoso):
    """contoso.com's provisioning token named "Entra ID", and a SCIM client presenting it."""
    rob, _people, _subscription = contoso
    return scim_client(rob)
