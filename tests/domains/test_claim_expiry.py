"""Claims expire when unused: a verified claim has 7 days to be used for a purchase, its
claimant is told a day before any claim ends, and the purchase looks for the record again."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from domains import services
from domains.exceptions import ClaimExpiredError, RecordGoneError, RecordUncheckableError
from domains.models import DomainClaim
from domains.tasks import sweep_claims
from licensing.models import Subscription
from meetings.models import MeetingSettings
from tenancy.models import AuditEvent, Tenant
from tests.fixtures.claims import DOMAIN, make_due
from tests.fixtures.purchases import buy

Status = DomainClaim.Status


def verified(rob, dns):
    """Rob's claim, verified by a real check of the test DNS server."""
    claim = services.start_claim(user=rob)
    dns.set_txt(DOMAIN, "v=spf1 -all", claim.record_value)
    make_due(claim)
    claim = services.check_claim(claim_id=claim.pk)
    assert claim.status == Status.VERIFIED
    return claim


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_a_verified_claim_has_7_days_to_be_used(rob, dns):
    claim = verified(rob, dns)
    assert claim.expires_at == claim.verified_at + timedelta(days=7)
    with at(claim.expires_at - timedelta(minutes=1)):
        assert sweep_claims() == {"warned": 1, "expired": 0}
    claim.refresh_from_db()
    assert claim.status == Status.VERIFIED


def test_unused_for_7_days_it_expires_and_its_claimant_may_start_over(rob, dns):
    claim = verified(rob, dns)
    with at(claim.expires_at + timedelta(minutes=1)):
        assert sweep_claims()["expired"] == 1
        assert sweep_claims()["expired"] == 0
    claim.refresh_from_db()
    assert claim.status == Status.EXPIRED
    assert claim.last_error == "Not used for a purchase within 7 days."
    event = AuditEvent.objects.unscoped().get(action="domain_claim.expired")
    assert (event.before["status"], event.after["status"]) == ("verified", "expired")
    fresh = services.start_claim(user=rob)
    assert fresh.pk != claim.pk and fresh.status == Status.PENDING


def test_the_page_of_a_claim_expired_unused_says_so(client, rob, dns):
    claim = verified(rob, dns)
    client.force_login(rob)
    page = client.get(reverse("wizard:domain_status")).content.decode()
    assert "Keep the record" in page
    assert "This confirmation is valid until" in page
    assert "You may remove it now" not in page
    with at(claim.expires_at + timedelta(minutes=1)):
        sweep_claims()
    page = client.get(reverse("wizard:domain_status")).content.decode()
    assert "was not used for a purchase within 7 days" in page
    assert "Start over" in page


def test_a_day_before_a_verified_claim_ends_its_claimant_is_mailed_once(rob, dns, settings):
    settings.BASE_URL = "https://quorum.example"
    claim = verified(rob, dns)
    mail.outbox.clear()
    with at(claim.expires_at - timedelta(days=1, minutes=1)):
        assert sweep_claims()["warned"] == 0  # not yet
    with at(claim.expires_at - timedelta(hours=23)):
        assert sweep_claims()["warned"] == 1
        assert sweep_claims()["warned"] == 0
    with at(claim.expires_at - timedelta(hours=1)):
        assert sweep_claims()["warned"] == 0
    [message] = mail.outbox
    assert message.to == [rob.email]
    assert message.subject == "Your confirmation of contoso.com ends in a day"
    assert "you have not bought licences yet" in message.body
    assert "https://quorum.example/upgrade/domain/" in message.body


def test_a_pending_claim_mails_a_day_before_its_72_hours_end_with_the_record(rob, dns):
    claim = services.start_claim(user=rob)
    mail.outbox.clear()
    with at(claim.created_at + timedelta(hours=48, minutes=1)):
        assert sweep_claims()["warned"] == 1
        assert sweep_claims()["warned"] == 0
    [message] = mail.outbox
    assert message.subject == (
        "We have not found your record at contoso.com: we stop looking in a day"
    )
    assert claim.record_value in message.body


def test_a_claim_verified_after_its_notice_gets_a_notice_for_its_new_window(rob, dns):
    claim = services.start_claim(user=rob)
    with at(claim.created_at + timedelta(hours=50)):
        sweep_claims()
        dns.set_txt(DOMAIN, claim.record_value)
        make_due(claim)
        claim = services.check_claim(claim_id=claim.pk)
    assert claim.status == Status.VERIFIED
    assert claim.expiry_warned_at is None
    mail.outbox.clear()
    with at(claim.expires_at - timedelta(hours=2)):
        assert sweep_claims()["warned"] == 1
    assert "ends in a day" in mail.outbox[0].subject


def test_the_notice_is_in_the_claimants_language(rob, dns):
    MeetingSettings.objects.filter(user=rob).update(language="fr")
    claim = verified(rob, dns)
    mail.outbox.clear()
    with at(claim.expires_at - timedelta(hours=2)):
        sweep_claims()
    [message] = mail.outbox
    assert message.subject == "Votre confirmation de contoso.com prend fin dans un jour"
    assert "Bonjour Rob Martin" in message.body


@pytest.mark.django_db
def test_the_purchase_looks_for_the_record_again_and_refuses_when_it_is_gone(rob, dns, localstripe):
    claim = verified(rob, dns)
    dns.set_txt(DOMAIN, "v=spf1 -all")  # removed since the check
    with pytest.raises(RecordGoneError) as refused:
        buy(localstripe, rob)
    assert refused.value.message == (
        f"The record {claim.record_value} is no longer at contoso.com, and we look for it again "
        "when you buy. Nothing was charged: publish the record again, then buy."
    )
    assert localstripe.subscriptions() == []
    assert not Subscription.objects.unscoped().exists()
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    claim.refresh_from_db()
    assert claim.status == Status.VERIFIED
    # Published again: the purchase goes through, and notes where it found the record.
    dns.set_txt(DOMAIN, claim.record_value)
    assert buy(localstripe, rob).state == "succeeded"
    claim.refresh_from_db()
    assert claim.status == Status.USED
    assert [server["answer"] for server in claim.servers_seen] == ["found"]


@pytest.mark.django_db
def test_the_purchase_refuses_when_dns_does_not_answer(rob, dns, localstripe):
    verified(rob, dns)
    dns.set_silent(True)
    with pytest.raises(RecordUncheckableError) as refused:
        buy(localstripe, rob)
    assert "We could not reach the DNS servers of contoso.com" in refused.value.message
    assert localstripe.subscriptions() == []


@pytest.mark.django_db
def test_the_purchase_refuses_a_claim_past_its_7_days_not_yet_swept(rob, dns, localstripe):
    claim = verified(rob, dns)
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ClaimExpiredError) as refused:
        buy(localstripe, rob)
    assert re.search(r"has expired: it was not used within 7 days", refused.value.message)
    assert localstripe.subscriptions() == []
