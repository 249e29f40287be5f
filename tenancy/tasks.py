from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.tasks import enqueue

from .selectors import unfinished_announcement_ids
from .services.announcements import send_announcement_batch

ANNOUNCEMENT_BATCH = 200
# Senders mailing one announcement side by side, each skipping the recipient another holds:
# as many as the worker processes of `make run`.
ANNOUNCEMENT_SENDERS = 2
# An announcement is re-queued by the beat job only when nothing was mailed for this long.
REQUEUE_GRACE = timedelta(minutes=2)


@shared_task(name="tenancy.send_announcement", acks_late=True, ignore_result=True)
def send_announcement(announcement_id):
    """Mail one batch, then queue the next one: progress shows as batches finish, and a
    retried or redelivered task skips everyone already mailed."""
    remaining = send_announcement_batch(
        announcement_id=announcement_id, batch_size=ANNOUNCEMENT_BATCH
    )
    if remaining:
        enqueue(send_announcement, announcement_id)
    return remaining


def queue_announcement(announcement_id):
    """Start mailing a new announcement (called once its recipients are committed)."""
    for _sender in range(ANNOUNCEMENT_SENDERS):
        enqueue(send_announcement, announcement_id)


@shared_task(name="tenancy.requeue_unfinished_announcements", acks_late=True, ignore_result=True)
def requeue_unfinished_announcements():
    """Beat job: an announcement whose message was lost (broker down, worker gone) goes on."""
    stalled = unfinished_announcement_ids(quiet_since=timezone.now() - REQUEUE_GRACE)
    for announcement_id in stalled:
        enqueue(send_announcement, announcement_id)
    return len(stalled)
