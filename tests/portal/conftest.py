from licensing.models import Subscription
from tests.factories import member
from tests.licensing.conftest import buy, verified_claim


def managed_tenant(localstripe, domain, admin_name="Rob Martin", others=("sara",)):
    """A tenant upgraded through the real purchase: its admin, its members, its subscription."""
    admin = member(f"{admin_name.split()[0].lower()}@{domain}", name=admin_name)
    people = [member(f"{name}@{domain}", name=name.title()) for name in others]
    verified_claim(admin)
    buy(localstripe, admin)
    return admin, people, Subscription.objects.unscoped().get(tenant__domain=domain)
