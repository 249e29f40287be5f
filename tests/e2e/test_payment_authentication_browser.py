"""3-D Secure in a browser: card 4000 0027 6000 3184 asks the bank on every payment. The card
form's step and the first payment's step run in localstripe's Stripe.js, whose stand-in for
the bank's page is a dialog with "Complete authentication"."""

import re

import pytest
from playwright.sync_api import expect

from licensing.models import Subscription
from tenancy.models import Tenant
from tests.factories import member

from .journeys import assert_accessible, run_wizard_to_the_end, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTHENTICATION_CARD = "4000002760003184"


def complete_authentication(page):
    page.get_by_role("button", name="Complete authentication").click()


def test_the_wizard_runs_the_banks_authentication_of_the_first_payment(
    new_page, live_server, dns, localstripe
):
    member("rob@contoso.test", name="Rob Martin")
    member("sara@contoso.test", name="Sara Lefèvre")
    rob = new_page()
    sign_in(rob, "rob@contoso.test")
    rob.goto("/upgrade/?entry=admin")
    texts = {"step2": "Run the wizard", "confirmed": "Domain confirmed"}
    run_wizard_to_the_end(
        rob, dns=dns, domain="contoso.test", texts=texts, card=AUTHENTICATION_CARD
    )
    complete_authentication(rob)  # the card form's SetupIntent

    form = rob.get_by_test_id("authenticate")
    expect(form).to_contain_text("Authenticate the payment with your bank")
    assert_accessible(rob)
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    form.get_by_role("button", name="Authenticate and finish").click()
    complete_authentication(rob)  # the first invoice's PaymentIntent

    rob.wait_for_url(re.compile(r"/upgrade/done/$"))
    expect(rob.locator("h1")).to_have_text("You are now the admin of contoso.test")
    assert Tenant.objects.get().state == Tenant.State.MANAGED
    assert Subscription.objects.unscoped().get().status == Subscription.Status.ACTIVE
    assert [s.status for s in localstripe.subscriptions()] == ["active"]
