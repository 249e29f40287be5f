"""Celery tasks of domain claims: thin wrappers around the services, safe to deliver twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from core.tasks import enqueue

from . import selectors, services

# A claim is re-queued by the beat job only once it is this late: its own message (sent when the
# previous check was recorded) normally arrives first.
REQUEUE_GRACE = timedelta(seconds=60)
MERGE_NOTICE_BATCH = 200
# A merge's notices are re-queued by the beat job only when nothing was mailed for this long.
NOTICES_REQUEUE_GRACE = timedelta(minutes=2)


@shared_task(name="domains.check_claim", acks_late=True, ignore_result=True)
def check_claim_task(claim_id):
    """One DNS check of a claim, if it is due; the service schedules the next one."""
    services.check_claim(claim_id=claim_id)


@shared_task(name="domains.requeue_due_claims", acks_late=True, ignore_result=True)
def requeue_due_claims():
    """Beat job: send a check for every pending claim whose check is overdue (a lost message)."""
    due = selectors.due_claim_ids(before=timezone.now() - REQUEUE_GRACE)
    for claim_id in due:
        enqueue(check_claim_task, claim_id)
    return len(due)


@shared_task(name="domains.sweep_claims", acks_late=True, ignore_result=True)
def sweep_claims() -> dict[str, int]:
    """Beat job: tell claimants whose claim expires within a day; expire verified claims not
    used for a purchase within 7 days."""
    return {
        "warned": services.warn_of_expiring_claims(),
        "expired": services.expire_unused_claims(),
    }


@shared_task(name="domains.check_domain", acks_late=True, ignore_result=True)
def check_domain_task(domain_id: int) -> None:
    """The daily re-check of one verified domain, if it is due."""
    services.check_domain(domain_id=domain_id)


@shared_task(name="domains.queue_domain_checks", acks_late=True, ignore_result=True)
def queue_domain_checks() -> int:
    """Beat job, every minute: queue each re-check due before the next run at its own time,
    so the day's checks reach the worker one by one, never in a burst."""
    due = services.take_due_domain_checks()
    for domain_id, when in due:
        enqueue(check_domain_task, domain_id, eta=when)
    return len(due)


@shared_task(name="domains.send_merge_notices", acks_late=True, ignore_result=True)
def send_merge_notices(merge_id: int) -> int:
    """Tell one batch of a merge's people, then queue the next batch."""
    remaining = services.send_merge_notice_batch(merge_id=merge_id, batch_size=MERGE_NOTICE_BATCH)
    if remaining:
        enqueue(send_merge_notices, merge_id)
    return remaining


@shared_task(name="domains.requeue_merge_notices", acks_late=True, ignore_result=True)
def requeue_merge_notices() -> int:
    """Beat job: a merge whose notices stalled (broker down, worker gone) goes on."""
    stalled = selectors.unfinished_merge_ids(quiet_since=timezone.now() - NOTICES_REQUEUE_GRACE)
    for merge_id in stalled:
        enqueue(send_merge_notices, merge_id)
    return len(stalled)
