import pytest

from tests.factories import member


@pytest.fixture
def rob(db):
    return member("rob@contoso.com", name="Rob Martin")


@pytest.fixture
def sara(db):
    return member("sara@contoso.com", name="Sara Lefèvre")
