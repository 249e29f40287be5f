"""After the upgrade: each member's "Getting started" (what changed for them), mailed once and
shown on their home page until they dismiss it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.scoping import TenantScopedManager
from tenancy.models import Tenant


class Welcome(models.Model):
    """A member of a tenant when it became managed. `mailed_at` is set in the transaction that
    sent their mail (a retried task skips them); `dismissed_at` when they closed the home
    page's card, which then shows no more."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The Getting started page, absolute, as the mail links it (from the buyer's request: a
    # Celery worker has no site address of its own).
    link = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    mailed_at = models.DateTimeField(null=True, blank=True)
    # A mail the server refused for good (an unknown mailbox): never tried again.
    mail_failure = models.CharField(max_length=255, blank=True, default="")
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="one_welcome_per_member")
        ]
        indexes = [
            # The sender's next recipient, in one index step however many were mailed before.
            models.Index(
                fields=["tenant", "id"],
                condition=models.Q(mailed_at__isnull=True, mail_failure=""),
                name="welcome_unmailed",
            ),
        ]

    def __str__(self) -> str:
        return f"Welcome of {self.user_id} to {self.tenant_id}"
