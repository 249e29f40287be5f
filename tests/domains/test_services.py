"""Claim services against the real test DNS server (scheduled checks run in-process here; the
task tier is in test_tasks.py)."""

import random
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from domains import selectors, services
from domains.exceptions import (
    CheckTooSoonError,
    ClaimNotVerifiedError,
    ManagedTenantError,
    NoTenantError,
)
from domains.models import DomainClaim
from tenancy.models import AuditEvent, Membership
from tests.factories import member
from tests.fixtures.claims import DOMAIN, make_due

Status = DomainClaim.Status


def scheduled_check(claim):
    make_due(claim)
    checked = services.check_claim(claim_id=claim.pk)
    assert checked is not None
    return checked


def test_start_claim_makes_a_pending_claim_with_a_strong_token(rob):
    before = timezone.now()
    claim = services.start_claim(user=rob)
    assert claim.status == Status.PENDING
    assert claim.tenant.domain == DOMAIN
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", claim.token)  # ≥ 256 bits, URL-safe
    assert claim.record_name == DOMAIN
    assert claim.record_value == f"quorum-verification={claim.token}"
    assert claim.next_check_at <= timezone.now()  # the first check is due at once
    assert timedelta(hours=72) <= claim.expires_at - before < timedelta(hours=72, minutes=1)
    event = AuditEvent.objects.unscoped().get(action="domain_claim.started")
    assert (event.tenant, event.actor, event.target) == (claim.tenant, rob, DOMAIN)


def test_starting_again_returns_the_same_claim_and_token(rob):
    first = services.start_claim(user=rob)
    again = services.start_claim(user=rob)
    assert (again.pk, again.token) == (first.pk, first.token)
    assert DomainClaim.objects.unscoped().count() == 1


def test_consumer_domain_user_cannot_start(db):
    gmail_user = member("someone@gmail.com")
    with pytest.raises(NoTenantError) as error:
        services.start_claim(user=gmail_user)
    assert error.value.message == "Only members of an organisation can become its admin."
    assert not DomainClaim.objects.unscoped().exists()


def test_unverified_user_cannot_start(db):
    unverified = member("new@contoso.com", verified=False)
    with pytest.raises(NoTenantError):
        services.start_claim(user=unverified)


def test_member_of_a_managed_tenant_cannot_start_and_is_told_the_admin(rob, sara):
    tenant = rob.membership.tenant
    tenant.state = "managed"
    tenant.save()
    Membership.objects.unscoped().filter(user=sara).update(role="admin")
    with pytest.raises(ManagedTenantError) as error:
        services.start_claim(user=rob)
    assert error.value.admins == [sara]
    assert "Sara Lefèvre <sara@contoso.com>" in error.value.message
    assert not DomainClaim.objects.unscoped().exists()


def test_record_appears_after_a_few_checks(rob, dns):
    claim = services.start_claim(user=rob)
    dns.set_txt(DOMAIN, "v=spf1 -all")
    claim = scheduled_check(claim)
    assert claim.status == Status.PENDING
    assert claim.last_outcome == DomainClaim.Outcome.MISMATCH
    claim = scheduled_check(claim)
    assert claim.status == Status.PENDING
    dns.set_txt(DOMAIN, "v=spf1 -all", claim.record_value)
    claim = scheduled_check(claim)
    assert claim.status == Status.VERIFIED
    assert claim.attempts == 3
    assert claim.verified_at is not None
    assert claim.next_check_at is None
    assert selectors.verified_claim(tenant=claim.tenant, claimant=rob) == claim
    event = AuditEvent.objects.unscoped().get(action="domain_claim.verified")
    assert event.after == {"claim": claim.pk, "status": "verified", "checks": 3}


def test_wrong_token_stays_pending_and_records_what_it_saw(rob, dns):
    claim = services.start_claim(user=rob)
    dns.set_txt(DOMAIN, "quorum-verification=not-the-token", "v=spf1 -all")
    claim = scheduled_check(claim)
    assert claim.status == Status.PENDING
    assert sorted(claim.seen_txt) == ["quorum-verification=not-the-token", "v=spf1 -all"]
    assert "none of them is quorum-verification=" in claim.last_error
    reasons = {seen["txt"]: seen["reason"] for seen in selectors.seen_records_explained(claim)}
    assert reasons == {
        "quorum-verification=not-the-token": "other_token",
        "v=spf1 -all": "unrelated",
    }
    assert selectors.verified_claim(tenant=claim.tenant, claimant=rob) is None


def test_several_records_with_a_multi_string_quoted_one_verify(rob, dns):
    claim = services.start_claim(user=rob)
    half = len(claim.record_value) // 2
    dns.set_txt(
        DOMAIN,
        "v=spf1 -all",
        "google-site-verification=xyz",
        ['"Quorum-Verification=', claim.token + '"'],
    )
    assert claim.record_value[:half]  # the record is really split in two strings
    claim = scheduled_check(claim)
    assert claim.status == Status.VERIFIED


@pytest.mark.parametrize("trouble", ["nxdomain", "stopped", "silent", "servfail"])
def test_dns_trouble_is_retried_not_failed(rob, dns, trouble):
    claim = services.start_claim(user=rob)
    if trouble == "stopped":
        dns.stop()
    elif trouble == "silent":
        dns.set_silent(True)
    elif trouble == "servfail":
        dns.servfail(DOMAIN)
    checked_at = timezone.now()
    claim = scheduled_check(claim)
    assert claim.status == Status.PENDING
    assert claim.attempts == 1
    assert (
        claim.last_outcome
        == {
            "nxdomain": "nxdomain",
            "stopped": "timeout",
            "silent": "timeout",
            "servfail": "servfail",
        }[trouble]
    )
    assert claim.last_error
    assert claim.next_check_at > checked_at + timedelta(seconds=20)
    # Once DNS answers with the record, the next check confirms the domain.
    dns.reset()
    dns.set_txt(DOMAIN, claim.record_value)
    assert scheduled_check(claim).status == Status.VERIFIED


def test_a_check_that_is_not_due_does_nothing(rob, dns):
    claim = services.start_claim(user=rob)
    claim = scheduled_check(claim)
    queries = dns.query_count
    assert services.check_claim(claim_id=claim.pk) is None
    claim.refresh_from_db()
    assert claim.attempts == 1
    assert dns.query_count == queries


def test_one_check_of_the_flat_test_server_costs_two_queries(rob, dns):
    """The flat server names no zone (no NS, no SOA): the NS query, then the resolver's TXT."""
    claim = services.start_claim(user=rob)
    before = dns.query_count
    scheduled_check(claim)
    assert dns.query_count - before == 2
    dns.set_silent(True)
    before = dns.query_count
    scheduled_check(claim)
    assert dns.query_count - before <= 2


def test_backoff_doubles_from_30_seconds_up_to_one_hour_with_jitter():
    for step, full in [(0, 30), (1, 60), (2, 120), (6, 1920), (7, 3600), (30, 3600)]:
        delays = [services.retry_delay(step) for _ in range(200)]
        assert 0.8 * full <= min(delays) and max(delays) <= full
        assert len({round(delay, 3) for delay in delays}) > 100  # jittered


def test_checks_follow_the_backoff_schedule(rob, dns):
    claim = services.start_claim(user=rob)
    expected = [30, 60, 120, 240]
    for full in expected:
        claim = scheduled_check(claim)
        delay = (claim.next_check_at - claim.last_checked_at).total_seconds()
        assert 0.8 * full - 0.1 <= delay <= full + 0.1


def count_checks_in_window(rng):
    """How many scheduled checks a claim gets in its 72 hours (the schedule of check_claim)."""
    window = 72 * 3600
    elapsed, step, checks = 0.0, 0, 0
    while True:
        checks += 1  # a check at `elapsed`
        if elapsed >= window:
            return checks
        elapsed = min(elapsed + services.retry_delay(step, rng=rng), window)
        step += 1


def test_a_72_hour_window_means_about_80_to_100_checks():
    class Longest:
        def uniform(self, low, high):
            return high

    class Shortest:
        def uniform(self, low, high):
            return low

    assert count_checks_in_window(Longest()) == 79
    assert count_checks_in_window(Shortest()) == 97
    assert 79 <= count_checks_in_window(random.Random(4)) <= 97


def test_window_end_expires_the_claim_then_a_new_claim_may_start(rob, dns):
    claim = services.start_claim(user=rob)
    claim = scheduled_check(claim)
    with time_machine.travel(claim.expires_at + timedelta(seconds=1), tick=False):
        claim = scheduled_check(claim)
    assert claim.status == Status.EXPIRED
    assert "over 72 hours" in claim.last_error
    assert claim.next_check_at is None
    assert AuditEvent.objects.unscoped().filter(action="domain_claim.expired").exists()
    fresh = services.start_claim(user=rob)
    assert fresh.pk != claim.pk
    assert fresh.token != claim.token
    assert fresh.status == Status.PENDING


def test_the_last_check_is_at_the_end_of_the_window(rob, dns):
    claim = services.start_claim(user=rob)
    with time_machine.travel(claim.expires_at - timedelta(seconds=5), tick=False):
        claim = scheduled_check(claim)
    assert claim.status == Status.PENDING
    assert claim.next_check_at == claim.expires_at


def test_expire_claim_leaves_a_claim_in_its_window_alone(rob):
    claim = services.start_claim(user=rob)
    assert services.expire_claim(claim=claim).status == Status.PENDING


def test_check_now_at_most_once_per_10_seconds(rob, dns):
    claim = services.start_claim(user=rob)
    services.request_check_now(claim=claim, user=rob)
    with pytest.raises(CheckTooSoonError) as error:
        services.request_check_now(claim=claim, user=rob)
    assert 1 <= error.value.seconds <= 10
    assert "Try again in" in error.value.message
    with time_machine.travel(timezone.now() + timedelta(seconds=11), tick=False):
        dns.set_txt(DOMAIN, claim.record_value)
        claim = services.request_check_now(claim=claim, user=rob)
    assert claim.status == Status.VERIFIED
    assert claim.attempts == 2


def test_record_added_checks_at_once_and_restarts_the_backoff(rob, dns):
    claim = services.start_claim(user=rob)
    for _ in range(5):
        claim = scheduled_check(claim)
    assert claim.backoff_step == 5
    claim = services.confirm_record_added(claim=claim, user=rob)
    assert claim.attempts == 6
    delay = (claim.next_check_at - claim.last_checked_at).total_seconds()
    assert delay <= 30


def test_only_the_claimant_checks_now(rob, sara, dns):
    claim = services.start_claim(user=rob)
    with pytest.raises(services.ClaimNotPendingError):
        services.request_check_now(claim=claim, user=sara)


def test_two_members_claim_the_same_tenant_and_see_each_other(rob, sara):
    robs = services.start_claim(user=rob)
    saras = services.start_claim(user=sara)
    assert robs.pk != saras.pk and robs.token != saras.token
    assert list(selectors.claims_of_tenant(robs.tenant)) == [robs, saras]


def test_use_claim_supersedes_the_other_open_claims(rob, sara, dns):
    carl = member("carl@contoso.com")
    robs = services.start_claim(user=rob)
    saras = services.start_claim(user=sara)
    carls = services.start_claim(user=carl)
    dns.set_txt(DOMAIN, robs.record_value, saras.record_value)
    scheduled_check(robs)
    scheduled_check(saras)
    used = services.use_claim(claim=robs)
    assert used.status == Status.USED
    statuses = dict(DomainClaim.objects.unscoped().values_list("pk", "status"))
    assert statuses == {robs.pk: "used", saras.pk: "superseded", carls.pk: "superseded"}
    assert list(selectors.claims_of_tenant(robs.tenant)) == []
    event = AuditEvent.objects.unscoped().get(action="domain_claim.used")
    assert event.after["superseded"] == {str(saras.pk): "verified", str(carls.pk): "pending"}


def test_use_claim_refuses_a_claim_that_is_not_verified(rob):
    claim = services.start_claim(user=rob)
    with pytest.raises(ClaimNotVerifiedError):
        services.use_claim(claim=claim)
    claim.refresh_from_db()
    assert claim.status == Status.PENDING


def run_at_once(*functions):
    """Run the functions in threads released together; return their results (or exceptions)."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        barrier.wait()
        try:
            results[index] = function()
        except Exception as error:  # returned to the test, which asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_members_claiming_at_once_get_two_claims():
    rob = member("rob@contoso.com", name="Rob Martin")
    sara = member("sara@contoso.com", name="Sara Lefèvre")
    results = run_at_once(
        lambda: services.start_claim(user=rob), lambda: services.start_claim(user=sara)
    )
    assert all(isinstance(result, DomainClaim) for result in results), results
    assert {claim.claimant for claim in selectors.claims_of_tenant(rob.membership.tenant)} == {
        rob,
        sara,
    }


@pytest.mark.django_db(transaction=True)
def test_one_member_starting_twice_at_once_gets_one_claim():
    rob = member("rob@contoso.com", name="Rob Martin")
    results = run_at_once(
        lambda: services.start_claim(user=rob), lambda: services.start_claim(user=rob)
    )
    assert all(isinstance(result, DomainClaim) for result in results), results
    assert results[0].token == results[1].token
    assert DomainClaim.objects.unscoped().count() == 1
