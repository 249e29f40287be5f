from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenancy.services.membership import join_tenant_of_verified_email

DEMO_PASSWORD = "quorum-demo-2026"  # noqa: S105 (demo data, printed to the user)
DEMO_USERS = [
    ("Rob Martin", "rob@contoso.test"),
    ("Sara Lefèvre", "sara@contoso.test"),
]


class Command(BaseCommand):
    help = "Load the demo tenant contoso.test with two verified users (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        for name, email in DEMO_USERS:
            user, created = User.objects.get_or_create(email=email, defaults={"name": name})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            join_tenant_of_verified_email(user=user, email=email)
        self.stdout.write(self.style.SUCCESS("Demo tenant contoso.test is ready. Sign in with:"))
        for _name, email in DEMO_USERS:
            self.stdout.write(f"  {email} / {DEMO_PASSWORD}")
