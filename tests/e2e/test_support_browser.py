"""Help & support in a browser: the admin opens a service request in the admin centre and sees
it listed; a support agent answers it in Django's admin; the real Celery worker mails the admin
the answer (into an SMTP sink) and the admin reads it and the new status on the request."""

import re
import time
from email.header import decode_header, make_header

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import expect

from portal.models import SupportRequest
from tests.factories import member
from tests.fixtures.purchases import managed_tenant
from tests.fixtures.two_factor import enrol_totp

from .journeys import assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_admin_asks_for_help_and_reads_the_answer(
    new_page, live_server, localstripe, celery_worker, mailbox
):
    secret = generate_totp_secret()
    managed_tenant(localstripe, "contoso.test", totp_secret=secret)
    ann_user = member(
        "ann@quorum-support.test", name="Ann Support", is_staff=True, is_superuser=True
    )
    ann_secret = enrol_totp(ann_user)  # support staff need a second factor (tenancy.staff)
    rob = new_page()
    sign_in(rob, "rob@contoso.test", totp_secret=secret)
    rob.goto(f"{live_server.url}/admin/")

    rob.get_by_role("link", name="Help & support").click()
    assert_accessible(rob)
    expect(rob.get_by_test_id("support-requests")).to_contain_text("No request yet.")
    rob.get_by_label("Subject").fill("No sound in meetings")
    rob.get_by_label("Description").fill("Since 9:00 nobody hears anybody.")
    rob.get_by_label("High: many people cannot work").check()
    rob.get_by_role("button", name="Send to support").click()
    expect(rob.locator(".messages")).to_contain_text("Your request was sent to support.")
    expect(rob.get_by_test_id("support-status")).to_have_text("Open: waiting for support")
    assert_accessible(rob)
    rob.get_by_role("link", name="All requests").click()
    listing = rob.get_by_test_id("support-requests")
    expect(listing).to_contain_text("No sound in meetings")
    expect(listing).to_contain_text("High: many people cannot work")
    screenshot(rob, "support-request-listed")

    opened = SupportRequest.objects.unscoped().get()
    ann = new_page()
    sign_in(ann, "ann@quorum-support.test", totp_secret=ann_secret)
    ann.goto(f"{live_server.url}/django-admin/portal/supportrequest/{opened.pk}/change/")
    ann.locator("textarea[name='replies-0-body']").fill("Fixed on our side: please try again.")
    ann.locator("select[name='status']").select_option("waiting")
    ann.locator("input[name='_save']").click()
    ann.wait_for_url(re.compile(r"/django-admin/portal/supportrequest/$"))

    deadline = time.monotonic() + 20
    while not mailbox.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["to"] for m in mailbox.messages] == [["rob@contoso.test"]]
    assert "No sound in meetings" in str(make_header(decode_header(mailbox.messages[0]["subject"])))

    rob.get_by_role("link", name="No sound in meetings").click()
    expect(rob.get_by_test_id("support-status")).to_have_text("Waiting for your answer")
    expect(rob.get_by_test_id("support-replies")).to_contain_text(
        "Fixed on our side: please try again."
    )
