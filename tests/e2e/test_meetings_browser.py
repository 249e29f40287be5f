import re
from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import Meeting, Participant
from tenancy.models import Membership
from tests.factories import PASSWORD, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/$"))


def join_as(browser, live_server, email, link):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, email)
    page.goto(link)
    page.get_by_role("button", name=re.compile(r"^Join as ")).click()
    return context, page


def test_schedule_share_two_join_and_the_third_is_refused(page, browser, live_server):
    rob = member("rob@contoso.com", name="Rob Martin")
    for name in ("sara", "tom", "eve"):
        member(f"{name}@contoso.com", name=name.title())
    # Rob joined his tenant 61 days ago: the free plan's cap is now 3.
    Membership.objects.unscoped().filter(user=rob).update(
        joined_at=timezone.now() - timedelta(days=61)
    )

    sign_in(page, "rob@contoso.com")
    page.goto("/meetings/")
    upgrade = page.get_by_role("link", name="Upgrade")
    assert upgrade.get_attribute("href") == "/upgrade/?entry=meetings"
    page.get_by_role("link", name="Schedule a meeting").first.click()
    page.get_by_label("Title").fill("Roadmap review")
    page.get_by_label("Starts").fill("2031-01-15T10:00")
    page.get_by_label("Ends").fill("2031-01-15T11:00")
    page.get_by_role("button", name="Schedule").click()

    link = page.get_by_test_id("join-link").text_content().strip()
    meeting = Meeting.objects.unscoped().get(title="Roadmap review")
    assert link == f"{live_server.url}/meetings/j/{meeting.join_token}/"
    assert meeting.duration_minutes == 60
    page.get_by_role("button", name="Join as Rob Martin").click()
    roster = page.get_by_test_id("roster")
    assert roster.get_by_text("Rob Martin").is_visible()

    opened = []
    for email in ("sara@contoso.com", "tom@contoso.com"):
        context, other = join_as(browser, live_server, email, link)
        opened.append(context)
        assert other.get_by_text("You are in the meeting as").is_visible()
    # Rob's roster refreshes by itself (htmx polling) and shows everyone.
    roster.get_by_text("Sara").wait_for()
    roster.get_by_text("Tom").wait_for()
    assert "3 people present" in roster.text_content()

    context, eve = join_as(browser, live_server, "eve@contoso.com", link)
    opened.append(context)
    full = eve.get_by_test_id("meeting-full")
    assert "This meeting is full: the free plan allows 3 people after 60 days." in (
        full.text_content()
    )
    assert full.get_by_role("link", name="Upgrade").get_attribute("href") == (
        "/upgrade/?entry=meetings"
    )
    assert Participant.objects.unscoped().filter(meeting=meeting, left_at__isnull=True).count() == 3
    assert not Participant.objects.unscoped().filter(user__email="eve@contoso.com").exists()
    for context in opened:
        context.close()
