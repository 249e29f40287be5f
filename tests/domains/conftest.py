import pytest
from django.utils import timezone

from domains.models import DomainClaim
from tests.factories import member

DOMAIN = "contoso.com"


@pytest.fixture
def rob(db):
    return member("rob@contoso.com", name="Rob Martin")


@pytest.fixture
def sara(db):
    return member("sara@contoso.com", name="Sara Lefèvre")


def make_due(claim):
    """The claim's next check is due now (as if its backoff delay had passed)."""
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(next_check_at=timezone.now())
