"""The daily re-check of the verified domains of managed tenants: a grace period when the record
goes missing, suspension at its end, everything cleared when the record is back."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from domains import services
from domains.dnscheck import record_value
from licensing.models import Licence
from tenancy.models import AuditEvent, JoinRequest, Membership, TenantDomain
from tests.factories import member

Status = TenantDomain.Status
pytestmark = pytest.mark.django_db


def primary(domain="contoso.com"):
    return TenantDomain.objects.unscoped().get(domain=domain)


def checked_at(domain, moment):
    """The domain's re-check, run at `moment` as its task would (due by then)."""
    TenantDomain.objects.unscoped().filter(pk=domain.pk).update(next_check_at=moment)
    with time_machine.travel(moment, tick=False):
        checked = services.check_domain(domain_id=domain.pk)
    assert checked is not None
    return checked


def actions():
    return list(
        AuditEvent.objects.unscoped()
        .filter(action__startswith="domain.")
        .exclude(action="domain.verified")
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )


def test_the_purchase_makes_the_domain_verified_and_checked_daily_at_its_own_time(contoso, dns):
    rob, _people, _subscription = contoso
    domain = primary()
    assert (domain.status, domain.is_primary) == (Status.VERIFIED, True)
    assert dns.query_count  # the purchase looked for the record
    slot = services.daily_slot(domain.pk)
    first = domain.next_check_at
    assert first - timezone.now() >= services.MIN_CHECK_GAP
    assert (first - first.replace(hour=0, minute=0, second=0, microsecond=0)).seconds == slot

    domain = checked_at(domain, first)

    assert domain.status == Status.VERIFIED
    assert domain.last_outcome == "found"
    assert domain.next_check_at == first + timedelta(days=1)
    assert actions() == []
    assert AuditEvent.objects.unscoped().get(action="domain.verified").actor == rob


def test_100000_domains_make_about_70_checks_a_minute_every_minute():
    per_minute = Counter(services.daily_slot(pk) // 60 for pk in range(1, 100_001))
    assert len(per_minute) == 1440
    assert min(per_minute.values()) >= 60 and max(per_minute.values()) <= 80


def test_a_missing_record_starts_the_grace_period_and_tells_the_admins(contoso, dns, client):
    rob, [sara], _subscription = contoso
    dns.remove("contoso.com")
    mail.outbox.clear()
    now = timezone.now()

    domain = checked_at(primary(), now)

    assert domain.status == Status.IN_GRACE
    assert domain.missing_since == now
    assert domain.grace_ends_at == now + timedelta(days=14)
    assert domain.next_check_at <= domain.grace_ends_at
    assert actions() == ["domain.record_missing"]
    [message] = mail.outbox  # the admins only
    assert message.to == [rob.email]
    assert message.subject == "The DNS record proving contoso.com is missing"
    assert record_value(domain.token) in message.body
    client.force_login(rob)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="domain-banner" data-domain="contoso.com"' in page
    assert "The DNS record that proves contoso.com is missing since" in page
    # Nothing else changes during the grace period: a sign-up joins as before.
    assert member("li@contoso.com").membership.tenant == domain.tenant
    client.force_login(sara)
    assert client.get(reverse("portal:dashboard")).status_code == 403


def test_the_grace_period_is_a_setting(contoso, dns, settings):
    settings.DOMAIN_GRACE_DAYS = 3
    dns.remove("contoso.com")
    now = timezone.now()
    assert checked_at(primary(), now).grace_ends_at == now + timedelta(days=3)


def test_the_record_back_clears_everything(contoso, dns, client):
    rob, _people, _subscription = contoso
    token = primary().token
    dns.remove("contoso.com")
    start = timezone.now()
    checked_at(primary(), start)
    dns.set_txt("contoso.com", record_value(token))

    domain = checked_at(primary(), start + timedelta(days=1))

    assert domain.status == Status.VERIFIED
    assert (domain.missing_since, domain.grace_ends_at, domain.suspended_at) == (None, None, None)
    assert actions() == ["domain.record_missing", "domain.record_back"]
    client.force_login(rob)
    assert "domain-banner" not in client.get(reverse("portal:dashboard")).content.decode()


def test_still_missing_at_the_end_of_the_grace_period_the_domain_is_suspended(contoso, dns, client):
    rob, [sara], subscription = contoso
    licences = set(Licence.objects.unscoped().values_list("user_id", flat=True))
    dns.remove("contoso.com")
    start = timezone.now()
    domain = checked_at(primary(), start)
    domain = checked_at(domain, start + timedelta(days=13))
    assert domain.status == Status.IN_GRACE  # not yet
    mail.outbox.clear()

    domain = checked_at(domain, domain.grace_ends_at)

    assert domain.status == Status.SUSPENDED
    assert domain.suspended_at == start + timedelta(days=14)
    assert actions() == ["domain.record_missing", "domain.suspended"]
    [message] = mail.outbox
    assert (message.to, message.subject) == ([rob.email], "contoso.com is suspended")
    # New sign-ups no longer join on their own: they wait for an admin.
    li = member("li@contoso.com")
    assert not Membership.objects.unscoped().filter(user=li).exists()
    assert JoinRequest.objects.unscoped().get(user=li).tenant == domain.tenant
    # Licences, settings and members stay.
    assert set(Membership.objects.unscoped().values_list("user__email", flat=True)) == {
        rob.email,
        sara.email,
    }
    assert set(Licence.objects.unscoped().values_list("user_id", flat=True)) == licences
    subscription.refresh_from_db()
    assert subscription.status == "active"
    # The admin centre says why.
    client.force_login(rob)
    page = client.get(reverse("portal:users")).content.decode()
    assert "contoso.com is suspended since" in page
    assert "new sign-ups at contoso.com no longer join on their own" in page
    # The record back restores the domain: sign-ups join again.
    dns.set_txt("contoso.com", record_value(domain.token))
    domain = checked_at(domain, domain.grace_ends_at + timedelta(days=1))
    assert domain.status == Status.VERIFIED
    assert actions()[-1] == "domain.restored"
    assert member("mo@contoso.com").membership.tenant == domain.tenant


def test_dns_trouble_is_retried_with_a_backoff_and_changes_no_state(contoso, dns):
    dns.set_silent(True)
    now = timezone.now()
    domain = checked_at(primary(), now)
    assert (domain.status, domain.last_outcome, domain.check_failures) == (
        Status.VERIFIED,
        "timeout",
        1,
    )
    assert 24 <= (domain.next_check_at - now).total_seconds() <= 30
    later = now + timedelta(minutes=1)
    domain = checked_at(domain, later)
    assert domain.check_failures == 2
    assert 48 <= (domain.next_check_at - later).total_seconds() <= 60
    dns.set_silent(False)
    domain = checked_at(domain, later + timedelta(minutes=2))
    assert (domain.status, domain.check_failures) == (Status.VERIFIED, 0)
    assert domain.next_check_at - timezone.now() >= services.MIN_CHECK_GAP
    assert actions() == []


def test_in_grace_dns_trouble_never_suspends(contoso, dns):
    dns.remove("contoso.com")
    domain = checked_at(primary(), timezone.now())
    dns.set_silent(True)
    domain = checked_at(domain, domain.grace_ends_at + timedelta(hours=1))
    assert domain.status == Status.IN_GRACE
    assert actions() == ["domain.record_missing"]


def test_a_check_not_due_does_nothing(contoso, dns):
    domain = primary()
    queries = dns.query_count
    assert services.check_domain(domain_id=domain.pk) is None
    assert dns.query_count == queries


def test_the_beat_job_queues_the_coming_minute_once_each_at_its_time(contoso, fabrikam):
    now = timezone.now()
    contoso_domain, fabrikam_domain = primary("contoso.com"), primary("fabrikam.com")
    TenantDomain.objects.unscoped().filter(pk=contoso_domain.pk).update(
        next_check_at=now + timedelta(seconds=30)
    )
    TenantDomain.objects.unscoped().filter(pk=fabrikam_domain.pk).update(
        next_check_at=now + timedelta(seconds=90)
    )
    member("una@unmanaged.example")  # an unmanaged tenant's domain is never checked
    with time_machine.travel(now, tick=False):
        assert services.take_due_domain_checks() == [
            (contoso_domain.pk, now + timedelta(seconds=30))
        ]
        assert services.take_due_domain_checks() == []  # queued already
    with time_machine.travel(now + timedelta(seconds=60), tick=False):
        assert [pk for pk, _at in services.take_due_domain_checks()] == [fabrikam_domain.pk]
    # A check whose worker vanished is queued again once its lease is over.
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        due = [pk for pk, _at in services.take_due_domain_checks()]
    assert due == [contoso_domain.pk]


def test_the_recheck_asks_the_authoritative_servers(contoso, dns_hierarchy):
    domain = primary()
    dns_hierarchy.set_txt("contoso.com", record_value(domain.token), on=("ns1",))

    domain = checked_at(domain, timezone.now())

    assert domain.status == Status.VERIFIED
    assert {server["name"]: server["answer"] for server in domain.servers_seen} == {
        "ns1.contoso.com": "found",
        "ns2.contoso.com": "not_there",
        "ns3.contoso.com": "no_answer",
    }
    dns_hierarchy.set_txt("contoso.com", "v=spf1 -all")
    assert checked_at(domain, timezone.now()).status == Status.IN_GRACE
