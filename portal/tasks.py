from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.tasks import enqueue

from .selectors import unmailed_support_reply_ids
from .services import mail_support_reply_once

# A staff reply is mailed again by the beat job only when its task had this long to run.
REQUEUE_GRACE = timedelta(minutes=2)


@shared_task(name="portal.mail_support_reply", acks_late=True, ignore_result=True)
def mail_support_reply(reply_id: int) -> bool:
    """Mail a support staff's reply to the admin who opened the request (once)."""
    return mail_support_reply_once(reply_id=reply_id)


@shared_task(name="portal.requeue_unmailed_support_replies", acks_late=True, ignore_result=True)
def requeue_unmailed_support_replies() -> int:
    """Beat job: a reply whose mail task was lost (broker down, worker gone) is mailed still."""
    due = unmailed_support_reply_ids(written_before=timezone.now() - REQUEUE_GRACE)
    for reply_id in due:
        enqueue(mail_support_reply, reply_id)
    return len(due)
