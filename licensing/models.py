from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager
from tenancy.models import Tenant

from .plans import ESSENTIALS, NAMES, plan_by_key

PLAN_CHOICES = list(NAMES.items())


class Purchase(models.Model):
    """Our own record of one attempt to buy the first licences of a tenant.

    It exists before Stripe is called, so a retry of the same attempt finds what was already
    done there (customer, subscription) instead of doing it twice."""

    class State(models.TextChoices):
        STARTED = "started", _("Started")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        NEEDS_CONFIRMATION = "needs_confirmation", _("Needs confirmation")
        REQUIRES_ACTION = "requires_action", _("Requires bank authentication")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="purchases")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claim = models.ForeignKey("domains.DomainClaim", on_delete=models.PROTECT, related_name="+")
    entry = models.CharField(max_length=16)
    plan = models.CharField(max_length=16, choices=PLAN_CHOICES, default=ESSENTIALS)
    seats = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=24, choices=State.choices, default=State.STARTED)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedManager()

    def __str__(self):
        return f"Purchase {self.pk} of {self.tenant} ({self.state})"


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, spelt as Stripe spells them."""

    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Expired before the first payment")
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Payment failed")
    UNPAID = "unpaid", _("Unpaid")
    CANCELED = "canceled", _("Cancelled")
    PAUSED = "paused", _("Paused")


class InvoiceStatus(models.TextChoices):
    """Stripe's invoice statuses, spelt as Stripe spells them (the admin centre's invoice list)."""

    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Awaiting payment")
    PAID = "paid", _("Paid")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")
    VOID = "void", _("Void")


# Licences work while a subscription is live; PAID: the money is in; ENDED: none will come.
LIVE_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
)


class Subscription(models.Model):
    """A tenant's paid subscription, kept in step with Stripe by the purchase and webhooks."""

    Status = SubscriptionStatus
    LIVE_STATUSES = LIVE_STATUSES
    PAID = (Status.ACTIVE, Status.TRIALING)
    ENDED = (Status.CANCELED, Status.UNPAID, Status.INCOMPLETE_EXPIRED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="subscriptions")
    purchase = models.OneToOneField(
        Purchase, on_delete=models.PROTECT, related_name="subscription", null=True
    )
    plan = models.CharField(max_length=16, choices=PLAN_CHOICES)
    quantity = models.PositiveIntegerField()
    # How many of its licences are assigned: kept by every service that assigns or frees one,
    # under the lock on this row, so that the seat limit is checked without counting licences
    # (a count that grows with every assignment). `change_seat_count` counts them again.
    assigned = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=32, choices=Status.choices)
    stripe_customer_id = models.CharField(max_length=255)
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_item_id = models.CharField(max_length=255, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # Creation time of the last Stripe event applied, so an older event delivered late is ignored.
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Since when a renewal is unpaid (past due), and Stripe's page where the admin can pay it.
    past_due_since = models.DateTimeField(null=True, blank=True)
    unpaid_invoice_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="one_live_subscription_per_tenant",
            )
        ]

    def __str__(self):
        return f"{self.stripe_subscription_id} ({self.status})"

    @property
    def plan_details(self):
        return plan_by_key(self.plan)

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @property
    def grace_ends_at(self) -> datetime | None:
        """When a past-due subscription ends and the tenant falls back to free."""
        if self.status != self.Status.PAST_DUE or self.past_due_since is None:
            return None
        return self.past_due_since + timedelta(days=settings.PAST_DUE_GRACE_DAYS)


class Licence(models.Model):
    """One seat of a subscription, assigned to one member."""

    # The subscription's tenant: every tenant-owned row carries its key (docs/SCALING.md).
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="licences"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="licences"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "user"], name="one_licence_per_user")
        ]

    def __str__(self):
        return f"Licence of {self.user_id} in {self.subscription_id}"


class LicenceWait(models.Model):
    """A member waiting for a licence: none was free when they joined (or came back). Seats
    freed or added go to those waiting, the longest waiting first (`licensing.services.seats`).

    An admin who takes a licence back does not put its holder here: that was their choice."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="licence_wait"
    )
    since = models.DateTimeField(default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "since", "id"], name="licence_wait_queue")]

    def __str__(self):
        return f"{self.user_id} waiting since {self.since}"


class SettingsMigration(models.Model):
    """The record that members' personal meeting settings moved into a subscription."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="settings_migrations"
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    performed_at = models.DateTimeField(default=timezone.now)
    members = models.PositiveIntegerField()

    objects = TenantScopedManager()

    def __str__(self):
        return f"{self.members} settings migrated into {self.subscription_id}"


class StripeEvent(models.Model):
    """A webhook event already processed: Stripe may deliver the same event more than once."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    # The tenant whose subscription the event changed, once known. Empty for an event recorded
    # before (or without) finding its subscription: Stripe names the subscription, not the
    # tenant, and an event of a type Quorum ignores never names one. So this table is not
    # scoped: its rows are found by Stripe's event id alone (docs/SCALING.md).
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"{self.type} {self.stripe_event_id}"
