from licensing.models import Subscription
from tests.factories import member
from tests.fixtures.two_factor import enrol_totp
from tests.licensing.conftest import buy, verified_claim


def managed_tenant(
    localstripe, domain, admin_name="Rob Martin", others=("sara",), *, totp_secret=None
):
    """A tenant upgraded through the real purchase: its admin (with an authenticator app, as
    every admin must have; of `totp_secret` if given), its members, its subscription."""
    admin = member(f"{admin_name.split()[0].lower()}@{domain}", name=admin_name)
    enrol_totp(admin, totp_secret)
    people = [member(f"{name}@{domain}", name=name.title()) for name in others]
    verified_claim(admin)
    buy(localstripe, admin)
    return admin, people, Subscription.objects.unscoped().get(tenant__domain=domain)
