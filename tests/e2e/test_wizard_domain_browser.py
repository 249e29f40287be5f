"""Admin tile → step 3 → the record is published on the test DNS server → "Domain confirmed",
without reloading the page."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from domains.models import DomainClaim
from domains.tasks import requeue_due_claims
from tests.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def open_step_3(page):
    """From the launcher's Admin tile to the record to publish; returns the record's value."""
    page.goto("/")
    page.get_by_text("Apps", exact=True).click()
    page.locator(".launcher .tile-admin").click()
    page.wait_for_url(re.compile(r"/upgrade/\?entry=admin$"))
    expect(page.locator(".steps li.current")).to_contain_text("Run the wizard")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/upgrade/domain/$"))
    expect(page.locator(".steps li.current")).to_contain_text("Confirm domain ownership")
    expect(page.get_by_test_id("claim-status")).to_contain_text("Waiting for the record")
    # A marker that a reload or a navigation would wipe out.
    page.evaluate("document.body.dataset.sameDocument = 'yes'")
    return page.get_by_test_id("record-value").text_content().strip()


def expect_confirmed_without_reload(page):
    status = page.get_by_test_id("claim-status")
    expect(status).to_contain_text("Domain confirmed", timeout=20_000)
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
    # The rest of the page follows: step 4 is current, nothing is left to publish.
    expect(page.locator(".steps li.current")).to_contain_text("Buy licences")
    expect(page.locator(".steps li.done")).to_have_count(3)
    expect(page.get_by_test_id("record-value")).to_have_count(0)
    page.get_by_role("link", name="Continue to licences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Buy licences")


def test_record_added_button_confirms_the_domain_in_place(page, live_server, dns, localstripe):
    rob = member("rob@contoso.com", name="Rob Martin")
    sign_in(page, live_server, rob)
    value = open_step_3(page)
    assert value == DomainClaim.objects.unscoped().get(claimant=rob).record_value
    dns.set_txt("contoso.com", "v=spf1 -all", value)
    page.get_by_role("button", name="I've added the record").click()
    expect_confirmed_without_reload(page)


def test_the_worker_confirms_the_domain_and_the_page_follows(
    page, live_server, dns, celery_worker, localstripe
):
    rob = member("rob@contoso.com", name="Rob Martin")
    sign_in(page, live_server, rob)
    value = open_step_3(page)
    claim = DomainClaim.objects.unscoped().get(claimant=rob)
    expect(page.get_by_test_id("attempts")).to_have_text("1", timeout=20_000)  # first check
    expect(page.get_by_test_id("claim-status")).to_contain_text("does not exist")
    dns.set_txt("contoso.com", value)
    # Time passes until the next check (about 30 s): the beat job's view of an overdue claim.
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=5)
    )
    requeue_due_claims.delay()
    expect_confirmed_without_reload(page)
    claim.refresh_from_db()
    assert claim.attempts == 2
