"""After the upgrade: every member present gets a Getting started mail and home-page card.

The wizard owns these rows because it is where a tenant becomes managed; the facts the page and
the mail tell (licences, caps, admins, settings) stay with the apps that own them."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.scoping import in_tenant_scope, tenant_scope
from meetings.selectors import personal_language
from tenancy.models import Membership, Tenant, User

from .models import Welcome
from .selectors import getting_started


@in_tenant_scope
@transaction.atomic
def welcome_members(*, tenant: Tenant, base_url: str) -> int:
    """Write a Getting started welcome for every member of the newly managed `tenant` and have
    Celery mail them, once the rows are committed. Done once per tenant: a second call (a
    double click on Buy) adds nobody. Returns how many members were welcomed."""
    Tenant.objects.select_for_update().get(pk=tenant.pk)  # two calls at once: one writes
    if Welcome.objects.exists():
        return 0
    link = base_url.rstrip("/") + reverse("wizard:getting_started")
    # INSERT ... SELECT: every member is written by the database, however many there are.
    members, params = Membership.objects.values("user_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Welcome._meta.db_table} "  # noqa: S608 (table name from model metadata)
            "(tenant_id, user_id, link, created_at, mail_failure) "
            f"SELECT %s, user_id, %s, %s, '' FROM ({members}) AS members",
            [tenant.pk, link, timezone.now(), *params],
        )
        welcomed: int = cursor.rowcount
    from .tasks import queue_welcome_mails  # the task module imports these services

    transaction.on_commit(lambda: queue_welcome_mails(tenant.pk))
    return welcomed


@in_tenant_scope
def dismiss_welcome(*, tenant: Tenant, user: User) -> bool:
    """The member closed the Getting started card: it shows no more. True if it was shown."""
    return bool(
        Welcome.objects.filter(user=user, dismissed_at__isnull=True).update(
            dismissed_at=timezone.now()
        )
    )


def send_welcome_batch(*, tenant_id: int, batch_size: int) -> int:
    """Mail up to `batch_size` welcomed members not mailed yet; returns how many remain.

    As announcements are sent: each mail is sent and marked in one transaction holding its
    row's lock (a retried or concurrent task skips it); a mail refused for good is marked with
    its reason and never tried again; a passing failure raises and the task runs again."""
    with tenant_scope(tenant_id), mailers.default as mail_connection:
        for _index in range(batch_size):
            with transaction.atomic():
                welcome = (
                    Welcome.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(mailed_at__isnull=True, mail_failure="")
                    .select_related("user", "tenant")
                    .order_by("id")
                    .first()
                )
                if welcome is None:
                    break
                failure = _send(mail_connection, welcome)
                if failure:
                    welcome.mail_failure = failure[:255]
                    welcome.save(update_fields=["mail_failure"])
                else:
                    welcome.mailed_at = timezone.now()
                    welcome.save(update_fields=["mailed_at"])
        return Welcome.objects.filter(mailed_at__isnull=True, mail_failure="").count()


def _send(mail_connection: object, welcome: Welcome) -> str:
    """Send one mail; "" when accepted, the reason when refused for good."""
    user = welcome.user
    with translation.override(personal_language(user) or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "facts": getting_started(welcome.tenant, user=user),
            "link": welcome.link,
        }
        subject = render_to_string("wizard/email/getting_started_subject.txt", context)
        body = render_to_string("wizard/email/getting_started_message.txt", context)
    mail = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[user.email],
        headers={"Message-ID": f"<welcome-{welcome.pk}@{welcome.tenant.domain}>"},
    )
    try:
        mail_connection.send_messages([mail])  # type: ignore[attr-defined]
    except smtplib.SMTPRecipientsRefused as error:
        code, reason = next(iter(error.recipients.values()))
        if code < 500:
            raise
        return f"{code} {reason.decode(errors='replace')}"
    except ValueError as error:  # an address Django cannot put in a header
        return str(error)
    return ""
