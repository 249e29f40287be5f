from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenancy.services.membership import join_tenant_of_verified_email

DEMO_PASSWORD = "quorum-demo-2026"  # noqa: S105 (demo data, printed to the user)
DEMO_USERS = [
    ("Rob Martin", "rob@contoso.test"),
    ("Sara Lefèvre", "sara@contoso.test"),
]
# Rob becomes the admin in the demo (the wizard), and admins sign in with a second factor: his
# authenticator app secret is fixed and printed, and `manage.py demo_code` shows its code.
DEMO_ADMIN = "rob@contoso.test"
DEMO_TOTP_SECRET = "OF2W64TVNUWWIZLNN4WXE33CEEQSCIJB"  # noqa: S105 (demo data, printed)


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
            if email == DEMO_ADMIN:
                Authenticator.objects.get_or_create(
                    user=user,
                    type=Authenticator.Type.TOTP,
                    defaults={"data": {"secret": encrypt(DEMO_TOTP_SECRET)}},
                )
        self.stdout.write(self.style.SUCCESS("Demo tenant contoso.test is ready. Sign in with:"))
        for _name, email in DEMO_USERS:
            self.stdout.write(f"  {email} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"  {DEMO_ADMIN} also asks for a two-factor code: run `.venv/bin/python manage.py "
            f"demo_code`, or add the secret {DEMO_TOTP_SECRET} to an authenticator app."
        )
