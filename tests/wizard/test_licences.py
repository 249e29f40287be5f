import re

import pytest
from django.test import Client
from django.urls import reverse

from licensing.models import Purchase, Subscription
from tenancy.models import Membership, Tenant
from tests.factories import member
from tests.fixtures.purchases import verified_claim
from tests.fixtures.two_factor import enrol_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def rob(localstripe):
    rob = member("rob@contoso.com", name="Rob Martin")
    member("sara@contoso.com", name="Sara Lefèvre")
    verified_claim(rob)
    return rob


def open_step_4(client, user, entry="admin"):
    client.force_login(user)
    client.get(reverse("wizard:start"), {"entry": entry})
    return client.get(reverse("wizard:licences"))


def form_values(page):
    html = page.content.decode()
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    purchase = re.search(r'name="purchase" value="(\d+)"', html).group(1)
    seats = re.search(r'name="seats" value="(\d+)"', html).group(1)
    return secret, purchase, int(seats)


def test_step_4_lists_every_signup_and_offers_only_essentials_from_the_admin_tile(client, rob):
    page = open_step_4(client, rob, entry="admin")
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("Rob Martin", "rob@contoso.com", "Sara Lefèvre", "sara@contoso.com"):
        assert text in html
    assert 'value="essentials"' in html
    assert 'value="premium"' not in html
    assert "12.00 EUR" in html
    assert form_values(page)[2] == 2


def test_step_4_from_meetings_offers_both_plans(client, rob, localstripe):
    html = open_step_4(client, rob, entry="meetings").content.decode()
    assert 'value="essentials"' in html
    assert 'value="premium"' in html
    assert "25.00 EUR" in html


def test_the_card_form_comes_from_the_configured_stripe_js(client, rob, localstripe):
    page = open_step_4(client, rob)
    assert f'src="{localstripe.url}/js.stripe.com/v3/"' in page.content.decode()
    csp = page.headers["Content-Security-Policy"]
    assert localstripe.url in csp
    assert "unsafe-inline" not in csp


def test_without_a_verified_claim_step_4_sends_back_to_step_3(client, localstripe):
    sara = member("sara@contoso.com")
    client.force_login(sara)
    assert client.get(reverse("wizard:licences"))["Location"] == reverse("wizard:domain")
    response = client.post(
        reverse("wizard:buy"),
        {"purchase": "1", "seats": "1", "plan": "essentials", "setup_intent": "seti_x"},
    )
    assert response["Location"] == reverse("wizard:domain")
    assert not Purchase.objects.unscoped().exists()


def buy_through_the_page(client, localstripe, page, *, plan="essentials", card="4242424242424242"):
    secret, purchase, seats = form_values(page)
    localstripe.confirm_card(secret, card)
    return client.post(
        reverse("wizard:buy"),
        {
            "purchase": purchase,
            "seats": seats,
            "plan": plan,
            "setup_intent": secret.split("_secret_")[0],
        },
    )


def test_buying_makes_the_buyer_admin_and_shows_the_finish_page(client, rob, localstripe):
    response = buy_through_the_page(client, localstripe, open_step_4(client, rob))
    assert response.status_code == 302
    assert response["Location"] == reverse("wizard:done")
    page = client.get(reverse("wizard:done")).content.decode()
    assert "You are now the admin of contoso.com" in page
    assert "2 licences of Business Essentials" in page
    assert reverse("portal:licences") in page
    assert "Next: set up two-factor authentication" in page
    assert f'href="{reverse("mfa_index")}"' in page
    assert Tenant.objects.get().state == Tenant.State.MANAGED
    # The Admin tile now leads to the admin centre.
    assert client.get(reverse("wizard:start"), {"entry": "admin"})["Location"] == reverse(
        "portal:dashboard"
    )


def test_premium_from_the_admin_tile_is_refused_on_the_server(client, rob, localstripe):
    response = buy_through_the_page(
        client, localstripe, open_step_4(client, rob, entry="admin"), plan="premium"
    )
    assert response.status_code == 400
    assert "not offered" in response.content.decode()
    assert localstripe.subscriptions() == []
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED


def test_a_declined_card_shows_why_and_changes_nothing(client, rob, localstripe):
    response = buy_through_the_page(
        client, localstripe, open_step_4(client, rob), card="4000000000000341"
    )
    assert response.status_code == 400
    assert "Your card was declined" in response.content.decode()
    assert not Subscription.objects.unscoped().exists()
    assert not Membership.objects.unscoped().filter(role="admin").exists()


def test_a_signup_during_step_4_asks_to_confirm_the_new_total(client, rob, localstripe):
    page = open_step_4(client, rob)
    member("li@contoso.com")
    response = buy_through_the_page(client, localstripe, page)
    assert response.status_code == 409
    html = response.content.decode()
    assert "there are now 3 people to license instead of 2" in html
    assert localstripe.subscriptions() == []
    setup_intent = re.search(r'name="setup_intent" value="(seti_[^"]+)"', html).group(1)
    response = client.post(
        reverse("wizard:buy"),
        {
            "purchase": form_values(page)[1],
            "seats": "3",
            "plan": "essentials",
            "setup_intent": setup_intent,
        },
    )
    assert response["Location"] == reverse("wizard:done")
    assert Subscription.objects.unscoped().get().quantity == 3


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"purchase": "abc", "seats": "2", "plan": "essentials", "setup_intent": "x"},
        {"purchase": "1", "seats": "-1", "plan": "essentials", "setup_intent": "x"},
        {"purchase": "1", "seats": "2", "plan": "<script>", "setup_intent": "x"},
        {"purchase": "1", "seats": "2", "plan": "essentials", "setup_intent": "x" * 10_000},
        {"purchase": "999999", "seats": "2", "plan": "essentials", "setup_intent": "seti_x"},
    ],
)
def test_bad_purchase_input_gets_a_message_and_changes_nothing(client, rob, localstripe, data):
    open_step_4(client, rob)
    response = client.post(reverse("wizard:buy"), data)
    assert response.status_code == 400
    assert localstripe.subscriptions() == []
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
    assert "<script>" not in response.content.decode().split("</head>")[1]


def test_buy_needs_login_and_csrf(rob, localstripe):
    anonymous = Client()
    assert anonymous.post(reverse("wizard:buy"))["Location"].startswith(reverse("account_login"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rob)
    assert strict.post(reverse("wizard:buy"), {"purchase": "1"}).status_code == 403


def test_a_first_payment_the_bank_must_authenticate_gets_that_step(client, rob, localstripe):
    """Card 4000 0027 6000 3184: the card form's 3-D Secure passed, then the first payment
    asks for it again; the page offers the step, and once done the same purchase finishes."""
    page = open_step_4(client, rob)
    secret, purchase, seats = form_values(page)
    setup_intent = secret.split("_secret_")[0]
    localstripe.confirm_card(secret, "4000002760003184")
    localstripe.request(  # "Complete authentication" in localstripe's card form dialog
        "POST",
        f"/v1/setup_intents/{setup_intent}/confirm",
        {"key": "pk_test_quorum", "client_secret": secret},
    )
    submit = {"purchase": purchase, "seats": seats, "plan": "essentials"}
    response = client.post(reverse("wizard:buy"), {**submit, "setup_intent": setup_intent})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Authenticate the payment with your bank" in html
    payment_secret = re.search(r'data-payment-secret="([^"]+)"', html).group(1)
    assert payment_secret.startswith("pi_")
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED

    localstripe.authenticate(payment_secret)
    response = client.post(reverse("wizard:buy"), {**submit, "setup_intent": setup_intent})
    assert response["Location"] == reverse("wizard:done")
    assert Tenant.objects.get().state == Tenant.State.MANAGED
    assert [s.status for s in localstripe.subscriptions()] == ["active"]


def test_the_finish_page_of_an_admin_with_a_second_factor_says_nothing_more(
    client, rob, localstripe
):
    enrol_totp(rob)
    buy_through_the_page(client, localstripe, open_step_4(client, rob))
    page = client.get(reverse("wizard:done")).content.decode()
    assert "You are now the admin of contoso.com" in page
    assert "Next: set up two-factor authentication" not in page


def test_a_record_gone_before_the_purchase_is_refused_with_why_and_nothing_charged(
    client, rob, dns, localstripe
):
    page = open_step_4(client, rob)
    dns.remove("contoso.com")
    response = buy_through_the_page(client, localstripe, page)
    assert response.status_code == 400
    html = response.content.decode()
    assert "is no longer at contoso.com" in html
    assert "Nothing was charged: publish the record again, then buy." in html
    assert localstripe.subscriptions() == []
    assert Tenant.objects.get().state == Tenant.State.UNMANAGED
