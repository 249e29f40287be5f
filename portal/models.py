"""Help & support: the service requests a tenant's admins open and the support staff's replies.

Admins write them in the admin centre (portal/views/support.py); staff answer in Django's admin
(portal/admin.py). Both rows belong to the tenant and are scoped to it (core.scoping)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scoping import TenantScopedManager
from tenancy.models import Tenant


class SupportRequest(models.Model):
    """A service request an admin opened: what is wrong, how badly, and where it stands."""

    SUBJECT_MAX_LENGTH = 200
    DESCRIPTION_MAX_LENGTH = 5_000

    class Severity(models.TextChoices):
        LOW = "low", _("Low: a question, or something minor")
        NORMAL = "normal", _("Normal: something does not work as it should")
        HIGH = "high", _("High: many people cannot work")
        CRITICAL = "critical", _("Critical: nobody can meet")

    class Status(models.TextChoices):
        OPEN = "open", _("Open: waiting for support")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_FOR_ADMIN = "waiting", _("Waiting for your answer")
        RESOLVED = "resolved", _("Resolved")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="support_requests")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX_LENGTH)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("opened"), default=timezone.now)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class SupportReply(models.Model):
    """A message on a request: from the support staff (the admin who opened it is mailed, and
    `mailed_at` is set in the transaction that sent the mail) or from the tenant's admins."""

    BODY_MAX_LENGTH = 5_000

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    from_support = models.BooleanField(_("from support"), default=False)
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    # The request's page, absolute, as the mail links it: the site's address comes from the
    # request the staff answered in, and a mail re-sent by the beat job needs it too.
    link = models.CharField(max_length=500, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The beat job's sweep: staff replies whose mail was never sent.
            models.Index(
                fields=["created_at"],
                condition=models.Q(from_support=True, mailed_at__isnull=True),
                name="support_reply_unmailed",
            )
        ]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return f"Reply {self.pk} to {self.request_id}"
