import pytest

from tests.factories import member
from tests.fixtures.purchases import verified_claim


@pytest.fixture
def contoso(db):
    """Rob, who proved contoso.com, and Sara: two sign-ups, so two licences."""
    rob = member("rob@contoso.com", name="Rob Martin")
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    return rob, sara
