"""The DNS server stopped: claims stay pending and say so; once it is back they confirm."""

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import DomainClaim
from domains.services import check_claim, start_claim
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_a_stopped_dns_server_then_back(dns, record_figure):
    rob = member("rob@contoso.com")
    dns.stop()
    try:
        claim = start_claim(user=rob)
        check_claim(claim_id=claim.pk)
        claim.refresh_from_db()
        client = Client()
        client.force_login(rob)
        page = client.get(reverse("wizard:domain")).content.decode()
    finally:
        dns.start()
    assert claim.status == DomainClaim.Status.PENDING
    assert claim.last_outcome == "timeout"
    assert "We could not reach the DNS servers of contoso.com this time." in page
    dns.set_txt("contoso.com", claim.record_value)
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(next_check_at=claim.created_at)
    check_claim(claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == DomainClaim.Status.VERIFIED
    record_figure(
        while_stopped="pending: 'We could not reach the DNS servers of contoso.com this time.'",
        after_restart="verified",
        checks=claim.attempts,
    )
