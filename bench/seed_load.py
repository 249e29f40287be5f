"""Seeds the load test's database: contoso.load, bought through localstripe, with N members.

python bench/seed_load.py N PASSWORD   (DJANGO_SETTINGS_MODULE and DATABASE_URL set)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def emails(count):
    return [f"user{index:05d}@contoso.load" for index in range(count)]


def seed(count, password):
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from bench.seed import give_authenticator_app, serve_claim_records
    from bench.stripe_card import confirm_card
    from domains.models import DomainClaim
    from licensing.services.purchase import purchase_seats, start_purchase
    from tenancy.models import Membership
    from tenancy.services.membership import join_tenant_of_verified_email

    User = get_user_model()
    hashed = make_password(password)
    users = User.objects.bulk_create(
        [
            User(email=email, name=f"User {i}", password=hashed)
            for i, email in enumerate(emails(count))
        ]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users]
    )
    for user in users:
        join_tenant_of_verified_email(user=user, email=user.email)
    buyer = users[0]
    from django.utils import timezone

    claim = DomainClaim.objects.unscoped().create(
        tenant=buyer.membership.tenant,
        claimant=buyer,
        domain=buyer.membership.tenant.domain,
        status=DomainClaim.Status.VERIFIED,
        verified_at=timezone.now(),
        expires_at=timezone.now() + timezone.timedelta(hours=72),
    )
    dns_server = serve_claim_records([claim])
    purchase, secret = start_purchase(buyer=buyer, entry="admin")
    confirm_card(secret)
    purchase_seats(
        buyer=buyer,
        purchase_id=purchase.pk,
        plan_key="essentials",
        confirmed_seats=count,
        setup_intent_id=secret.split("_secret_")[0],
    )
    dns_server.stop()
    # A fifth of the people are admins: they load the dashboard.
    Membership.objects.unscoped().filter(user__in=users[: count // 5]).update(
        role=Membership.Role.ADMIN
    )
    give_authenticator_app(users[: count // 5])


if __name__ == "__main__":
    seed(int(sys.argv[1]), sys.argv[2])
