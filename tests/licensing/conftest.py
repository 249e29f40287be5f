import pytest
from django.conf import settings
from django.utils import timezone

from domains.devdns import add_txt
from domains.models import DomainClaim
from domains.services import VERIFIED_WINDOW
from licensing.services.purchase import purchase_seats, start_purchase
from tests.factories import member

GOOD_CARD = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"  # the card is saved, the first charge is declined
DECLINED_CARD = "4000000000000002"
AUTHENTICATION_CARD = "4000002760003184"


def verified_claim(user):
    """A claim whose DNS check succeeded (the domains app's tests prove that part for real),
    its record published on the test DNS server, where the purchase looks for it again."""
    now = timezone.now()
    claim = DomainClaim.objects.unscoped().create(
        tenant=user.membership.tenant,
        claimant=user,
        domain=user.membership.tenant.domain,
        status=DomainClaim.Status.VERIFIED,
        verified_at=now,
        expires_at=now + VERIFIED_WINDOW,
    )
    add_txt(settings.DEV_DNS_FILE, claim.record_name, claim.record_value)
    return claim


def buy(localstripe, buyer, *, entry="admin", plan="essentials", card=GOOD_CARD, seats=None):
    """What the wizard's step 4 does: open the purchase, confirm the card, buy."""
    purchase, client_secret = start_purchase(buyer=buyer, entry=entry)
    confirmation = localstripe.confirm_card(client_secret, card)
    setup_intent = client_secret.split("_secret_")[0]
    assert confirmation.get("id", setup_intent) == setup_intent
    return purchase_seats(
        buyer=buyer,
        purchase_id=purchase.pk,
        plan_key=plan,
        confirmed_seats=purchase.seats if seats is None else seats,
        setup_intent_id=setup_intent,
    )


@pytest.fixture
def contoso(db):
    """Rob, who proved contoso.com, and Sara: two sign-ups, so two licences."""
    rob = member("rob@contoso.com", name="Rob Martin")
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    return rob, sara
