"""Faults: Stripe unreachable mid-purchase, a worker process killed mid-task."""

import os
import signal
import socket
import subprocess
import time

import pytest
from django.test import override_settings

from licensing.exceptions import PaymentError
from licensing.models import Purchase, Subscription
from licensing.services.purchase import purchase_seats
from tenancy.models import AnnouncementDelivery, Membership, Tenant
from tenancy.services.announcements import create_announcement
from tenancy.tasks import send_announcement
from tests.factories import member
from tests.fixtures.purchases import purchase_ready, verified_claim

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_stripe_unreachable_between_customer_and_subscription(localstripe, record_figure):
    rob = member("rob@contoso.com")
    member("sara@contoso.com")
    verified_claim(rob)
    submit = purchase_ready(localstripe, rob)  # the customer exists, the card is confirmed

    with override_settings(STRIPE_API_BASE=f"http://127.0.0.1:{closed_port()}"):
        started = time.monotonic()
        with pytest.raises(PaymentError, match="never be charged twice"):
            purchase_seats(**submit)
        failed_after = time.monotonic() - started
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    assert not Membership.objects.unscoped().filter(role="admin").exists()
    assert Purchase.objects.unscoped().get().state == Purchase.State.FAILED

    done = purchase_seats(**submit)  # Stripe is back: the retry finishes the same attempt
    assert done.state == Purchase.State.SUCCEEDED
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
    assert Subscription.objects.unscoped().count() == 1
    record_figure(
        first_try="PaymentError, nothing changed",
        seconds_to_fail=round(failed_after, 2),
        retry="succeeded",
        stripe_subscriptions=1,
    )


def pool_processes(parent_pid):
    output = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(parent_pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(pid) for pid in output.split()]


@pytest.mark.worker
def test_a_worker_process_killed_mid_task_runs_it_again_with_its_effect_once(
    celery_worker, mailbox, localstripe, record_figure
):
    """The SMTP sink answers slowly, so the worker's pool process is caught inside a send,
    before the mail was accepted; it is killed with SIGKILL there."""
    from tests.fixtures.purchases import managed_tenant

    rob, people, _subscription = managed_tenant(
        localstripe, "contoso.com", others=[f"p{i}" for i in range(5)]
    )
    announcement = create_announcement(
        tenant=rob.membership.tenant, actor=rob, subject="Moved", body="Hello"
    )
    mailbox.delay = 3.0
    send_announcement.delay(announcement.pk)
    deadline = time.monotonic() + 20
    while not mailbox.receiving:
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.05)
    killed = pool_processes(celery_worker.pid)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    mailbox.delay = 0
    deadline = time.monotonic() + 60
    while AnnouncementDelivery.objects.unscoped().filter(sent_at__isnull=True).exists():
        assert time.monotonic() < deadline, "the task was not run again"
        time.sleep(0.2)
    time.sleep(1)
    recipients = [a for m in mailbox.messages for a in m["to"]]
    assert sorted(recipients) == sorted([rob.email] + [p.email for p in people])
    record_figure(
        pool_processes_killed=len(killed),
        recipients=6,
        mails_received=len(recipients),
        duplicates=len(recipients) - len(set(recipients)),
    )
