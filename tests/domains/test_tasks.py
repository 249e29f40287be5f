"""The task tier: the real Celery worker on Redis runs the checks against the test DNS server."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from domains import services
from domains.models import DomainClaim
from domains.tasks import check_claim_task, queue_domain_checks, requeue_due_claims
from tenancy.models import TenantDomain
from tests.factories import member
from tests.fixtures.claims import DOMAIN

pytestmark = pytest.mark.worker
Status = DomainClaim.Status


def wait_for(condition, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def claim_where(claim, **fields):
    return lambda: DomainClaim.objects.unscoped().filter(pk=claim.pk, **fields).first()


def overdue(claim):
    """As if the claim's message was lost: its check is well past due and nothing is queued."""
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=5)
    )


def worker_idle():
    inspect = app.control.inspect(timeout=1)
    active, reserved = inspect.active() or {}, inspect.reserved() or {}
    return not any(active.values()) and not any(reserved.values())


def test_first_check_runs_at_once_on_the_worker(celery_worker, dns):
    rob = member("rob@contoso.com", name="Rob Martin")
    dns.set_txt(DOMAIN, "v=spf1 -all")
    claim = services.start_claim(user=rob)
    checked = wait_for(claim_where(claim, attempts=1), what="the first check")
    assert checked.status == Status.PENDING
    assert checked.seen_txt == ["v=spf1 -all"]
    assert 20 <= (checked.next_check_at - checked.last_checked_at).total_seconds() <= 30


def test_record_appears_after_a_few_checks_through_the_beat_job(celery_worker, dns):
    rob = member("rob@contoso.com", name="Rob Martin")
    claim = services.start_claim(user=rob)
    wait_for(claim_where(claim, attempts=1), what="the first check")  # NXDOMAIN
    overdue(claim)
    assert requeue_due_claims() == 1
    wait_for(claim_where(claim, attempts=2), what="the second check")
    dns.set_txt(DOMAIN, "v=spf1 -all", claim.record_value)
    overdue(claim)
    requeue_due_claims.delay()  # the beat job, on the worker
    verified = wait_for(claim_where(claim, status=Status.VERIFIED), what="verification")
    assert verified.attempts == 3
    assert verified.last_outcome == "found"


def test_a_stopped_dns_server_is_retried_on_the_worker(celery_worker, dns):
    rob = member("rob@contoso.com", name="Rob Martin")
    dns.stop()
    claim = services.start_claim(user=rob)
    checked = wait_for(claim_where(claim, attempts=1), what="the first check")
    assert checked.status == Status.PENDING
    assert checked.last_outcome == "timeout"
    assert checked.next_check_at > timezone.now()


def test_two_deliveries_of_one_check_count_once(celery_worker, dns):
    rob = member("rob@contoso.com", name="Rob Martin")
    dns.set_silent(True)  # each check takes the whole DNS lifetime: the deliveries overlap
    claim = services.start_claim(user=rob)
    wait_for(claim_where(claim, attempts=1), what="the first check")
    wait_for(worker_idle, what="an idle worker")
    overdue(claim)
    queries = dns.query_count
    check_claim_task.delay(claim.pk)
    check_claim_task.delay(claim.pk)
    wait_for(claim_where(claim, attempts=2), what="the second check")
    wait_for(worker_idle, what="an idle worker")
    claim.refresh_from_db()
    assert claim.attempts == 2
    assert dns.query_count - queries <= 2  # one check's worth of queries


def test_window_end_expires_the_claim_on_the_worker(celery_worker, dns):
    rob = member("rob@contoso.com", name="Rob Martin")
    claim = services.start_claim(user=rob)
    wait_for(claim_where(claim, attempts=1), what="the first check")
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(
        expires_at=timezone.now() - timedelta(minutes=2),
        next_check_at=timezone.now() - timedelta(minutes=2),
    )
    requeue_due_claims.delay()
    expired = wait_for(claim_where(claim, status=Status.EXPIRED), what="expiry")
    assert "over 72 hours" in expired.last_error


def test_the_beat_job_queues_a_recheck_at_its_time_and_the_worker_runs_it(
    celery_worker, contoso, dns
):
    domain = TenantDomain.objects.unscoped().get(domain=DOMAIN)
    due = timezone.now() + timedelta(seconds=3)
    TenantDomain.objects.unscoped().filter(pk=domain.pk).update(next_check_at=due)
    assert queue_domain_checks() == 1  # the beat job's run: the check goes out with its ETA
    assert queue_domain_checks() == 0
    checked = wait_for(
        lambda: (
            TenantDomain.objects.unscoped()
            .filter(pk=domain.pk, last_checked_at__isnull=False)
            .first()
        ),
        what="the re-check",
    )
    assert checked.last_checked_at >= due - timedelta(seconds=1)  # not before its time
    assert (checked.status, checked.last_outcome) == (TenantDomain.Status.VERIFIED, "found")
    assert checked.next_check_at - checked.last_checked_at >= timedelta(hours=1)
    assert checked.check_queued_at is None


def test_the_people_of_a_merged_tenant_are_told_once_by_the_worker(
    celery_worker, contoso, dns, mailbox
):
    from domains.models import TenantMerge
    from domains.tasks import requeue_merge_notices, send_merge_notices

    rob, _people, _subscription = contoso
    member("fay@fabrikam.com", name="Fay Durand")
    member("gus@fabrikam.com", name="Gus Martin")
    claim = services.start_domain_claim(
        tenant=rob.membership.tenant, admin=rob, domain="fabrikam.com"
    )
    dns.set_txt("fabrikam.com", claim.record_value)
    wait_for(
        lambda: DomainClaim.objects.unscoped().filter(pk=claim.pk, status=Status.USED).first(),
        what="the domain added by the worker's check",
    )
    merge = TenantMerge.objects.unscoped().get()
    wait_for(
        lambda: (
            TenantMerge.objects.unscoped()
            .filter(pk=merge.pk, notices_finished_at__isnull=False)
            .exists()
        ),
        what="the notices",
    )
    send_merge_notices.delay(merge.pk)  # a second delivery of the task
    assert requeue_merge_notices() == 0
    wait_for(worker_idle, what="an idle worker")
    told = sorted(address for message in mailbox.messages for address in message["to"])
    assert told == ["fay@fabrikam.com", "gus@fabrikam.com"]
    assert {message["subject"] for message in mailbox.messages} == {
        "Your Quorum account is now part of contoso.com"
    }
