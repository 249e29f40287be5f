"""Announcements ("tell your users"): written by an admin, mailed by Celery in batches."""

import smtplib
import unicodedata
from collections.abc import Iterable

from django.core.mail import EmailMessage, mailers
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_tenant_scope, tenant_scope

from ..exceptions import TenancyError
from ..models import Announcement, AnnouncementDelivery, Membership, Tenant, User
from .audit import record_audit


@in_tenant_scope
@transaction.atomic
def create_announcement(
    *,
    tenant: Tenant,
    actor: User,
    subject: str,
    body: str,
    user_ids: Iterable[int] | None = None,
) -> Announcement:
    """Write an announcement and its list of recipients: every member, or those of `user_ids`
    who are members. Celery sends it (see `send_announcement_batch`)."""
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or not body:
        raise TenancyError(_("An announcement needs a subject and a message."))
    if len(subject) > Announcement.SUBJECT_MAX_LENGTH or len(body) > Announcement.BODY_MAX_LENGTH:
        raise TenancyError(_("The subject or the message is too long."))
    # The subject becomes a mail header: a line break there would fail every send.
    if _control_characters(subject) or _control_characters(body, allowed="\n\r\t"):
        raise TenancyError(
            _("The subject or the message contains control characters; please retype it.")
        )
    recipients = Membership.objects.all()
    if user_ids is not None:
        chosen = set(user_ids)
        if not chosen:
            raise TenancyError(_("Choose at least one member."))
        recipients = recipients.filter(user_id__in=chosen)
        if recipients.count() != len(chosen):
            raise TenancyError(_("Only members of your organisation can be chosen."))
    announcement = Announcement.objects.create(
        tenant=tenant, author=actor, subject=subject, body=body
    )
    # INSERT ... SELECT: 100,000 recipients are written by the database, not built in Python.
    members, params = recipients.values("user_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AnnouncementDelivery._meta.db_table} "  # noqa: S608 (table name from model metadata)
            "(tenant_id, announcement_id, user_id) "
            f"SELECT %s, %s, user_id FROM ({members}) AS recipients",
            [tenant.pk, announcement.pk, *params],
        )
        created = cursor.rowcount
    if not created:
        raise TenancyError(_("Choose at least one member."))
    record_audit(
        tenant=tenant,
        actor=actor,
        action="announcement.sent",
        target=subject,
        after={"recipients": created},
    )
    return announcement


def _control_characters(text: str, *, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def send_announcement_batch(*, announcement_id: int, batch_size: int) -> int:
    """Mail up to `batch_size` recipients who were not mailed yet; returns how many remain.

    Each mail is sent and its delivery marked sent in one transaction that holds the delivery's
    row lock, so a retried or concurrent task skips it. Only a worker killed between the SMTP
    server accepting a mail and that commit (milliseconds) could send it again; the mail's
    Message-ID is the same on every try, so mail servers can drop such a duplicate.

    A mail refused for good (a 5xx answer, or a mail that cannot be built) marks its delivery
    failed, with the reason, and the batch goes on; a passing failure (a 4xx answer, a lost
    connection) raises, and the task runs again later."""
    # A task knows its announcement by id only: the announcement names the tenant to scope to.
    announcement = (
        Announcement.objects.unscoped().select_related("tenant", "author").get(pk=announcement_id)
    )
    with tenant_scope(announcement.tenant):
        with mailers.default as mail_connection:
            for _index in range(batch_size):
                with transaction.atomic():
                    delivery = (
                        AnnouncementDelivery.objects.select_for_update(
                            skip_locked=True, of=("self",)
                        )
                        .filter(
                            announcement=announcement, sent_at__isnull=True, failed_at__isnull=True
                        )
                        .select_related("user")
                        .order_by("pk")
                        .first()
                    )
                    if delivery is None:
                        break
                    failure = _send(mail_connection, announcement, delivery)
                    if failure:
                        delivery.failed_at, delivery.failure = timezone.now(), failure[:255]
                        delivery.save(update_fields=["failed_at", "failure"])
                    else:
                        delivery.sent_at = timezone.now()
                        delivery.save(update_fields=["sent_at"])
        remaining = announcement.deliveries.filter(
            sent_at__isnull=True, failed_at__isnull=True
        ).count()
        if remaining == 0 and announcement.finished_at is None:
            Announcement.objects.filter(pk=announcement.pk, finished_at__isnull=True).update(
                finished_at=timezone.now()
            )
    return remaining


def _send(
    mail_connection: object, announcement: Announcement, delivery: AnnouncementDelivery
) -> str:
    """Send one mail; "" when accepted, the reason when refused for good."""
    try:
        mail = _announcement_mail(announcement, delivery)
        mail_connection.send_messages([mail])  # type: ignore[attr-defined]
    except smtplib.SMTPRecipientsRefused as error:
        code, reason = next(iter(error.recipients.values()))
        if code < 500:
            raise
        return f"{code} {_reply_text(reason)}"
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        if error.smtp_code < 500:
            raise
        return f"{error.smtp_code} {_reply_text(error.smtp_error)}"
    except ValueError as error:  # a header Django refuses to build (BadHeaderError, bad address)
        return str(error)
    return ""


def _reply_text(reply: bytes | str) -> str:
    # smtplib hands the server's reply over as bytes, a test server's as either.
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _announcement_mail(announcement: Announcement, delivery: AnnouncementDelivery) -> EmailMessage:
    tenant_domain = announcement.tenant.domain
    return EmailMessage(
        subject=announcement.subject,
        body=announcement.body,
        to=[delivery.user.email],
        headers={
            "Message-ID": f"<announcement-{announcement.pk}-{delivery.user_id}@{tenant_domain}>"
        },
    )
