"""Step 4 in a real browser: the card form is localstripe's Stripe.js, the buyer ends as admin."""

import re

import pytest
from playwright.sync_api import expect

from licensing.models import Subscription
from tenancy.models import Membership, Tenant
from tests.e2e.test_wizard_domain_browser import sign_in
from tests.factories import member
from tests.licensing.conftest import verified_claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_card(page, number):
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("40")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("75001")


def test_step_4_with_the_card_form_ends_as_admin(page, live_server, localstripe):
    rob = member("rob@contoso.com", name="Rob Martin")
    member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    sign_in(page, live_server, rob)

    page.goto("/upgrade/?entry=meetings")
    page.goto("/upgrade/licences/")
    expect(page.get_by_role("heading", name="2 licences")).to_be_visible()
    expect(page.get_by_role("cell", name="sara@contoso.com")).to_be_visible()
    expect(page.locator("#purchase-total")).to_have_text("12.00 EUR")
    page.get_by_label(re.compile("Business Premium")).check()
    expect(page.locator("#purchase-total")).to_have_text("25.00 EUR")

    fill_card(page, "4000000000000002")
    page.get_by_role("button", name="Buy and become the admin").click()
    expect(page.locator("#card-errors")).to_contain_text("declined")
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED

    page.reload()
    page.get_by_label(re.compile("Business Premium")).check()
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Buy and become the admin").click()
    page.wait_for_url(re.compile(r"/upgrade/done/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You are now the admin of contoso.com"
    )
    subscription = Subscription.objects.get()
    assert (subscription.plan, subscription.quantity) == ("premium", 2)
    assert Membership.objects.get(user=rob).role == Membership.Role.ADMIN
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
