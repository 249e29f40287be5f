from celery import shared_task

from . import services

ANNOUNCEMENT_BATCH = 200


@shared_task(acks_late=True)
def send_announcement(announcement_id):
    """Mail one batch, then queue the next one: progress shows as batches finish, and a
    retried or redelivered task skips everyone already mailed."""
    remaining = services.send_announcement_batch(
        announcement_id=announcement_id, batch_size=ANNOUNCEMENT_BATCH
    )
    if remaining:
        send_announcement.delay(announcement_id)
    return remaining
