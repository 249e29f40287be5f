import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager
from tenancy.models import Tenant


class ProvisioningToken(models.Model):
    """The secret a tenant's identity provider presents to provision its people over SCIM.

    The token handed out once is `<key>.<secret>`: the key finds the row, the secret is kept only
    as its SHA-256 digest and compared in constant time."""

    NAME_MAX_LENGTH = 100

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="provisioning_tokens")
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    key = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    # The tenant's trusted domains (verified or in grace) when the token was read with them
    # (selectors.token_presented): an address at one of them is the tenant's without a query.
    trusted_domains: frozenset[str] = frozenset()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.tenant_id})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @staticmethod
    def digest(secret: str) -> str:
        """What is stored of a secret: 256 random bits need no salt or slow hash."""
        return hashlib.sha256(secret.encode()).hexdigest()


class ProvisionedUser(models.Model):
    """A member as the tenant's identity provider manages them: one SCIM User resource.

    The address (`userName`), the name and whether the account is active live on the user;
    `attributes` keeps the rest of the resource as the identity provider sent it (name parts,
    phone numbers, the enterprise extension...), so that it reads back what it wrote."""

    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="provisioned_users")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provisioned"
    )
    external_id = models.CharField(max_length=255, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "external_id"], name="provisioned_by_external_id")
        ]

    def __str__(self):
        return f"{self.scim_id} ({self.user_id})"


class ProvisionedEmail(models.Model):
    """One entry of a provisioned user's `emails`, the address lowercased: what the identity
    provider's filters on `emails` read (`emails[type eq "work"].value eq "..."`)."""

    # The resource's tenant: every tenant-owned row carries its key (docs/SCALING.md).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(ProvisionedUser, on_delete=models.CASCADE, related_name="emails")
    value = models.CharField(max_length=254, db_index=True)
    type = models.CharField(max_length=64, blank=True)
    primary = models.BooleanField(default=False)

    objects = TenantScopedManager()

    def __str__(self):
        return self.value
