"""Journey 6 and the admin centre in a browser: add a user, buy a seat, set a policy, tell
everyone (mailed by the real Celery worker into an SMTP sink), see it all in the audit log."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import expect

from licensing.models import Licence, Subscription
from tenancy.models import Policy
from tests.fixtures.purchases import managed_tenant

from .journeys import assert_accessible, reauthenticate, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_admin_adds_buys_sets_tells_and_audits(
    new_page, live_server, localstripe, celery_worker, mailbox
):
    secret = generate_totp_secret()
    managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    rob = new_page()
    sign_in(rob, "rob@contoso.test", totp_secret=secret)
    rob.get_by_text("Apps", exact=True).click()
    rob.locator(".launcher .tile-admin").click()
    rob.wait_for_url(re.compile(r"/admin/$"))
    expect(rob.get_by_test_id("members")).to_have_text("2")

    rob.get_by_role("link", name="Active users").click()
    assert_accessible(rob)
    rob.get_by_role("textbox", name="Name:").fill("Li Wei")
    rob.get_by_label("E-mail address").fill("li@contoso.test")
    rob.get_by_role("button", name="Invite").click()
    expect(rob.locator(".messages")).to_contain_text("li@contoso.test was invited.")
    li_row = rob.locator("tr[data-email='li@contoso.test']")
    expect(li_row).to_contain_text("Free plan")

    rob.get_by_role("link", name="Licences").click()
    rob.get_by_label("Number of licences").fill("3")
    rob.get_by_role("button", name="Update licences").click()
    reauthenticate(rob)  # a change of seats asks for the password again; then it is made
    # Li waited for a licence since she was invited: the new one is hers at once.
    expect(rob.get_by_test_id("free")).to_have_text("0")
    rob.get_by_role("link", name="Active users").click()
    expect(li_row).to_contain_text("Licensed")
    assert Subscription.objects.unscoped().get().quantity == 3
    assert Licence.objects.unscoped().filter(user__email="li@contoso.test").exists()

    rob.get_by_role("link", name="Policies").click()
    assert_accessible(rob)
    rob.get_by_label("Largest meeting (people)").fill("50")
    rob.get_by_label("Recording").select_option("false")
    rob.get_by_role("button", name="Save policies").click()
    expect(rob.locator(".messages")).to_contain_text("The policies were saved.")
    policy = Policy.objects.unscoped().get()
    assert (policy.max_meeting_size, policy.recording_allowed) == (50, False)

    rob.get_by_role("link", name="Tell your users").click()
    assert_accessible(rob)
    rob.get_by_role("button", name="Preview").click()
    expect(rob.get_by_test_id("preview")).to_contain_text("Your admin is Rob Martin")
    rob.get_by_role("button", name="Send", exact=True).click()
    expect(rob.get_by_test_id("progress")).to_contain_text("3 of 3 mailed.", timeout=30_000)
    deadline = time.monotonic() + 10
    while len(mailbox.messages) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    announcements = [m for m in mailbox.messages if "moved to" in m["subject"]]
    assert sorted(a for m in announcements for a in m["to"]) == [
        "li@contoso.test",
        "rob@contoso.test",
        "sara@contoso.test",
    ]

    rob.get_by_role("link", name="Audit log").click()
    assert_accessible(rob)
    log = rob.get_by_test_id("audit")
    for sentence in (
        "Rob Martin sent the announcement “",
        "Rob Martin changed the meeting policies: meeting size, recording allowed.",
        "Rob Martin gave li@contoso.test a licence.",
        "Rob Martin changed the number of licences from ",
        "Rob Martin invited li@contoso.test.",
        "Rob Martin upgraded contoso.test to Business Essentials",
    ):
        expect(log).to_contain_text(sentence)
    expect(log).not_to_contain_text("tenant.upgraded")
