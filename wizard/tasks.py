from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.tasks import enqueue

from .selectors import tenants_with_unmailed_welcomes
from .services import send_welcome_batch

WELCOME_BATCH = 200
# A tenant's welcome mails are re-queued by the beat job only when begun this long ago.
REQUEUE_GRACE = timedelta(minutes=2)


@shared_task(name="wizard.send_welcome_mails", acks_late=True, ignore_result=True)
def send_welcome_mails(tenant_id: int) -> int:
    """Mail one batch of a tenant's Getting started mails, then queue the next one."""
    remaining = send_welcome_batch(tenant_id=tenant_id, batch_size=WELCOME_BATCH)
    if remaining:
        enqueue(send_welcome_mails, tenant_id)
    return remaining


def queue_welcome_mails(tenant_id: int) -> None:
    """Start mailing a newly managed tenant's members (called once the welcomes are committed)."""
    enqueue(send_welcome_mails, tenant_id)


@shared_task(name="wizard.requeue_unmailed_welcomes", acks_late=True, ignore_result=True)
def requeue_unmailed_welcomes() -> int:
    """Beat job: welcome mails whose task was lost (broker down, worker gone) go on."""
    due = tenants_with_unmailed_welcomes(created_before=timezone.now() - REQUEUE_GRACE)
    for tenant_id in due:
        enqueue(send_welcome_mails, tenant_id)
    return len(due)
