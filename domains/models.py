import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager

from .dnscheck import record_value


def new_token():
    # 32 random bytes: 256 bits, URL-safe, 43 characters.
    return secrets.token_urlsafe(32)


class DomainClaim(models.Model):
    """One person's attempt to prove that their organisation owns a domain (a DNS TXT record):
    a member proving the tenant's domain to buy (UPGRADE), or an admin of a managed tenant
    proving another domain to add it (ADD_DOMAIN; used as soon as it is verified, or refused
    when another managed organisation holds the domain by then).

    pending → verified → used (its claimant bought) | superseded (another member bought);
    pending → expired (the 72-hour window ended); verified → expired (not used for a purchase
    within 7 days). `expires_at` is the end of the current window; the claimant is mailed once
    a day before it. A new claim may follow an expired one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the record")
        VERIFIED = "verified", _("Domain confirmed")
        USED = "used", _("Used for the purchase")
        SUPERSEDED = "superseded", _("Superseded")
        EXPIRED = "expired", _("Expired")
        REFUSED = "refused", _("Refused: the domain belongs to another organisation")

    class Purpose(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        ADD_DOMAIN = "add_domain", _("Add a domain")

    class Outcome(models.TextChoices):
        """What the last check found; the page explains it in the reader's language."""

        NOT_CHECKED = "", _("Not checked yet")
        FOUND = "found", _("Record found")
        MISMATCH = "mismatch", _("TXT records found, none of them yours")
        NXDOMAIN = "nxdomain", _("The domain does not exist in DNS")
        NO_TXT = "no_txt", _("No TXT record at the domain yet")
        TIMEOUT = "timeout", _("The DNS servers did not answer in time")
        SERVFAIL = "servfail", _("The DNS servers failed to answer")

    OPEN_STATUSES = (Status.PENDING, Status.VERIFIED)

    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="domain_claims"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="domain_claims"
    )
    domain = models.CharField(_("domain"), max_length=253)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.UPGRADE)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("checks"), default=0)
    # Resets when the claimant says the record is published, so that checks are quick again.
    backoff_step = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_manual_check_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    # When the claimant was told the claim would expire within a day (at most once).
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    seen_txt = models.JSONField(default=list, blank=True)
    # Each server the last check asked and what it answered (dnscheck.servers_seen).
    servers_seen = models.JSONField(default=list, blank=True)
    last_outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.NOT_CHECKED, blank=True
    )
    last_error = models.TextField(blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "claimant", "domain"],
                condition=Q(status__in=["pending", "verified"]),
                name="domainclaim_one_open_per_claimant_and_domain",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_check_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self):
        return f"{self.domain} by {self.claimant} ({self.status})"

    @property
    def record_name(self):
        """Where the record goes: the domain's apex."""
        return self.domain

    @property
    def record_value(self):
        return record_value(self.token)

    @property
    def is_pending(self):
        return self.status == self.Status.PENDING

    @property
    def is_verified(self):
        return self.status == self.Status.VERIFIED

    @property
    def is_expired(self):
        return self.status == self.Status.EXPIRED


class TenantMerge(models.Model):
    """Unmanaged tenants at a domain an admin added, taken into the admin's tenant when the
    domain was verified: who joined, who waits (for approval, or for a licence), and the mail
    each of them gets once (MergeNotice)."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    claim = models.OneToOneField(DomainClaim, on_delete=models.PROTECT, related_name="merge")
    domain = models.CharField(_("domain"), max_length=253)
    merged_domains = models.JSONField(default=list)
    merged_at = models.DateTimeField(default=timezone.now)
    joined = models.PositiveIntegerField(default=0)
    waiting_for_approval = models.PositiveIntegerField(default=0)
    licensed = models.PositiveIntegerField(default=0)
    notices_finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self):
        return f"{', '.join(self.merged_domains)} into {self.tenant_id}"


class MergeNotice(models.Model):
    """The mail telling one person their organisation was merged; `sent_at` is set in the
    transaction that sent it, so a retried task skips everyone already told."""

    class Outcome(models.TextChoices):
        JOINED = "joined", _("Joined")
        WAITING = "waiting", _("Waits for an admin's approval")

    # The merge's (receiving) tenant, kept on the row as on every tenant-owned table.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    merge = models.ForeignKey(TenantMerge, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merge", "user"], name="one_notice_per_person")
        ]
        indexes = [
            models.Index(
                fields=["merge", "id"],
                condition=models.Q(sent_at__isnull=True),
                name="merge_notice_unsent",
            )
        ]

    def __str__(self):
        return f"merge {self.merge_id} to {self.user_id}"
