"""Help & support: an admin opens a service request; the support staff answer and move it
along in Django's admin; the admin who opened it is mailed each answer. Every write is audited
in the tenant's log."""

import unicodedata

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.scoping import in_scope_of, in_tenant_scope, tenant_scope
from core.tasks import enqueue
from meetings.selectors import personal_language
from tenancy.models import Tenant, User
from tenancy.services.audit import record_audit

from .exceptions import SupportError
from .models import SupportReply, SupportRequest


def _text(value: str, *, max_length: int, missing: str, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise SupportError(missing)
    if len(value) > max_length:
        raise SupportError(too_long)
    return value


@in_tenant_scope
@transaction.atomic
def open_support_request(
    *, tenant: Tenant, actor: User, subject: str, description: str, severity: str
) -> SupportRequest:
    """An admin asks support for help: subject, description and one of the fixed severities."""
    subject = _text(
        subject,
        max_length=SupportRequest.SUBJECT_MAX_LENGTH,
        missing=_("Say in a few words what the request is about."),
        too_long=_("The subject is too long."),
    )
    if any(unicodedata.category(c) == "Cc" for c in subject):  # it becomes a mail's subject
        raise SupportError(_("The subject contains control characters; please retype it."))
    description = _text(
        description,
        max_length=SupportRequest.DESCRIPTION_MAX_LENGTH,
        missing=_("Describe what happens, so that support can help."),
        too_long=_("The description is too long."),
    )
    if severity not in SupportRequest.Severity.values:
        raise SupportError(_("Choose one of the severities offered."))
    support_request = SupportRequest.objects.create(
        tenant=tenant,
        opened_by=actor,
        subject=subject,
        description=description,
        severity=severity,
    )
    record_audit(
        tenant=tenant,
        actor=actor,
        action="support.request_opened",
        target=subject,
        after={"request": support_request.pk, "severity": severity},
    )
    return support_request


@in_scope_of("support_request")
@transaction.atomic
def add_support_reply(
    *, support_request: SupportRequest, author: User, body: str, from_support: bool, base_url: str
) -> SupportReply:
    """A message on the request: from the support staff (the admin who opened the request is
    mailed it, with a link to the request under `base_url`, once the reply is committed) or from
    one of the tenant's admins."""
    body = _text(
        body,
        max_length=SupportReply.BODY_MAX_LENGTH,
        missing=_("Write a message."),
        too_long=_("The message is too long."),
    )
    reply = SupportReply.objects.create(
        tenant_id=support_request.tenant_id,
        request=support_request,
        author=author,
        from_support=from_support,
        body=body,
        link=base_url.rstrip("/")
        + reverse("portal:support_request", kwargs={"pk": support_request.pk}),
    )
    record_audit(
        tenant=support_request.tenant,
        actor=author,
        action="support.answered" if from_support else "support.admin_replied",
        target=support_request.subject,
        after={"request": support_request.pk},
    )
    if from_support:
        from .tasks import mail_support_reply  # the task module imports these services

        transaction.on_commit(lambda: enqueue(mail_support_reply, reply.pk))
    return reply


@in_scope_of("support_request")
@transaction.atomic
def set_support_request_status(
    *, support_request: SupportRequest, actor: User, status: str
) -> SupportRequest:
    """The support staff move the request along (in progress, waiting for the admin, resolved)."""
    if status not in SupportRequest.Status.values:
        raise SupportError(_("Choose one of the statuses offered."))
    before = SupportRequest.objects.select_for_update().get(pk=support_request.pk).status
    if before == status:
        return support_request
    support_request.status = status
    support_request.save(update_fields=["status"])
    record_audit(
        tenant=support_request.tenant,
        actor=actor,
        action="support.status_changed",
        target=support_request.subject,
        before={"status": before},
        after={"status": status},
    )
    return support_request


def mail_support_reply_once(*, reply_id: int) -> bool:
    """Mail a support reply to the admin who opened its request, in their language, unless it
    was mailed already; True when this call sent it. The reply's row stays locked from the check
    to the commit that marks it mailed, so a retried or duplicated task sends nothing twice."""
    # A task knows the reply by id only: the reply names the tenant to scope to.
    tenant_id = SupportReply.objects.unscoped().values_list("tenant_id", flat=True).get(pk=reply_id)
    with tenant_scope(tenant_id), transaction.atomic():
        reply = (
            SupportReply.objects.select_for_update(of=("self",))
            .select_related("request__opened_by", "request__tenant")
            .get(pk=reply_id)
        )
        admin = reply.request.opened_by
        if reply.mailed_at is not None or admin is None or not reply.from_support:
            return False
        with translation.override(personal_language(admin) or settings.LANGUAGE_CODE):
            context = {
                "reply": reply,
                "support_request": reply.request,
                "url": reply.link,
            }
            subject = render_to_string("portal/email/support_reply_subject.txt", context)
            body = render_to_string("portal/email/support_reply_message.txt", context)
        EmailMessage(subject=" ".join(subject.split()), body=body, to=[admin.email]).send()
        reply.mailed_at = timezone.now()
        reply.save(update_fields=["mailed_at"])
    return True
