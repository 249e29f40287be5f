from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scoping import TenantScopedManager


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user: User = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person; the e-mail address is the login. Tenancy comes from Membership, not from here."""

    # The e-mail address and one name replace AbstractUser's username and name parts.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()  # type: ignore[misc,assignment]  # AbstractUser's needs a username

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        # The admin centre's people list, in its sort orders (tenancy.selectors.MEMBER_SORTS):
        # for a large tenant the database walks one of these and stops after a page. Those
        # SQLite cannot have (NULLS LAST, trigrams for the search) are in migration 0004.
        indexes = [models.Index(fields=["name", "email"], name="user_by_name")]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name


class Tenant(models.Model):
    """Everybody whose verified address is at one of its domains (TenantDomain): one
    organisation. `domain` is its primary domain; a tenant merged into another is closed."""

    class State(models.TextChoices):
        UNMANAGED = "unmanaged", _("Free (unmanaged)")
        MANAGED = "managed", _("Managed")
        CLOSED = "closed", _("Closed (merged into another organisation)")

    class SignupMode(models.TextChoices):
        LICENCE_IF_FREE = "licence_if_free", _("Join, and get a licence when one is free")
        APPROVAL = "approval", _("Wait for an admin's approval")
        REFUSED = "refused", _("Refused: only the admins add people")

    # The primary domain. Not unique: a closed tenant keeps the domain it had, which another
    # tenant may hold now (TenantDomain.domain is the unique key).
    domain = models.CharField(_("domain"), max_length=253, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.UNMANAGED
    )
    # What happens to a new sign-up at the domain once the tenant is managed.
    signup_mode = models.CharField(
        _("new sign-ups at the domain"),
        max_length=16,
        choices=SignupMode.choices,
        default=SignupMode.LICENCE_IF_FREE,
    )
    # Every member, not only the admins (who always need one), signs in with a second factor.
    two_factor_required = models.BooleanField(
        _("two-factor authentication for every member"), default=False, db_default=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")), name="tenant_domain_lowercase"
            )
        ]

    def __str__(self):
        return self.domain

    @property
    def is_managed(self):
        return self.state == self.State.MANAGED


class TenantDomain(models.Model):
    """A domain of a tenant: addresses there belong to the tenant, and, once the domain is
    verified, addresses at its subdomains too (eu.contoso.com). One domain per tenant is its
    primary one, `Tenant.domain`; an admin may add more (proven the same way, by a DNS record).

    unverified (an unmanaged tenant's domain, never proven) → verified (its DNS record found;
    re-checked daily while the tenant is managed) → in_grace (the record was missing; admins
    are told) → suspended (still missing when the grace period ended: new sign-ups no longer
    join on their own) → verified again as soon as the record is back.
    """

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Not proven")
        VERIFIED = "verified", _("Verified")
        IN_GRACE = "in_grace", _("In grace period")
        SUSPENDED = "suspended", _("Suspended")

    # Whose subdomains belong to the tenant too.
    COVERING_STATUSES = (Status.VERIFIED, Status.IN_GRACE, Status.SUSPENDED)
    # Whose addresses (subdomains' included) the tenant's identity provider may vouch for and
    # provision: proven and still in use. A suspended domain lost its proof: not trusted.
    TRUSTED_STATUSES = (Status.VERIFIED, Status.IN_GRACE)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    status = models.CharField(
        _("state"), max_length=16, choices=Status.choices, default=Status.UNVERIFIED
    )
    # The code of the record that proves the domain: it must stay published.
    token = models.CharField(max_length=64, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    # The daily re-check (domains.services): when, what it found, its backoff on DNS trouble.
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_queued_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last check"), null=True, blank=True)
    last_outcome = models.CharField(max_length=16, blank=True)
    servers_seen = models.JSONField(default=list, blank=True)
    check_failures = models.PositiveIntegerField(default=0)
    missing_since = models.DateTimeField(null=True, blank=True)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-is_primary", "domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_primary=True), name="one_primary_domain"
            ),
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")), name="tenantdomain_lowercase"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_check_at"])]

    def __str__(self):
        return self.domain


class Membership(models.Model):
    """A verified user's place in the tenant of their e-mail domain; `joined_at` starts the
    free plan's 60-day clock."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", pgettext_lazy("role", "Admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "role"]),
            models.Index(fields=["tenant", "joined_at"]),
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.role})"

    @property
    def is_admin(self):
        return self.role == self.Role.ADMIN


class AuditEvent(models.Model):
    """What an admin, billing or domain action changed: who, when, what, before and after.

    Append-only: nothing in the UI edits or deletes an event."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted when no person did: the name of the provisioning token an identity provider used.
    actor_label = models.CharField(_("acting as"), max_length=100, blank=True, db_default="")
    action = models.CharField(_("action"), max_length=64)
    target = models.CharField(_("target"), max_length=255, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"


class Policy(models.Model):
    """Rules an admin fixes for every member's meetings. An empty value means "not fixed":
    each member's own setting applies. `meetings` reads these where meetings are scheduled and
    joined; the admin portal writes them."""

    class LobbyBypass(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        ORGANISATION = "organisation", _("People in my organisation")
        INVITED = "invited", _("People I invite")
        ORGANISER_ONLY = "organiser", _("Only me")

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="policy")
    max_meeting_size = models.PositiveIntegerField(_("meeting size"), null=True, blank=True)
    lobby_bypass = models.CharField(
        _("who may bypass the lobby"), max_length=16, choices=LobbyBypass.choices, blank=True
    )
    recording_allowed = models.BooleanField(_("recording allowed"), null=True, blank=True)
    anonymous_join_allowed = models.BooleanField(_("anonymous join allowed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    def __str__(self):
        return f"Policy of {self.tenant}"


class JoinRequest(models.Model):
    """A verified sign-up at a managed tenant whose admins approve newcomers: not a member yet."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="join_requests")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_request"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self):
        return f"{self.user} asks to join {self.tenant}"


class Removal(models.Model):
    """An admin removed this person from the tenant: verifying an address there again does not
    bring them back; only an admin adding them does."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="removals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="one_removal_per_member")
        ]

    def __str__(self):
        return f"{self.user} removed from {self.tenant}"


class Announcement(models.Model):
    """ "Tell your users": one mail to every member, or to the selected ones."""

    SUBJECT_MAX_LENGTH = 200
    BODY_MAX_LENGTH = 10_000

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    SUBJECT_MAX_LENGTH = 200
    BODY_MAX_LENGTH = 10_000

    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.subject


class AnnouncementDelivery(models.Model):
    """One recipient of an announcement; `sent_at` is set in the transaction that sent the mail,
    so a retried task skips everyone already mailed. A mail the server refused for good (an
    unknown mailbox, say) gets `failed_at` and its reason instead, and is never tried again."""

    # The announcement's tenant: every tenant-owned row carries its key (docs/SCALING.md).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=255, blank=True, db_default="")

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"], name="one_delivery_per_recipient"
            )
        ]
        indexes = [
            models.Index(fields=["announcement", "sent_at"]),
            # The sender's next recipient, in one index step however many were mailed before.
            models.Index(
                fields=["announcement", "id"],
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True),
                name="delivery_pending",
            ),
        ]

    def __str__(self):
        return f"{self.announcement_id} to {self.user_id}"
