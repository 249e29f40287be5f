"""Step 4's card form in Chromium with localstripe's Stripe.js: the card typed as printed, in
groups of four, buys the licences; what goes wrong reads as a sentence, in English and French."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from domains.devdns import add_txt
from domains.models import DomainClaim
from domains.services import start_claim
from licensing.models import Subscription
from tenancy.models import Membership
from tests.factories import member

from .journeys import fill_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rob_with_a_confirmed_domain():
    """Rob, whose claim of contoso.test is verified, its record published on the test DNS
    server (the purchase looks for it again)."""
    rob = member("rob@contoso.test", name="Rob Martin")
    member("sara@contoso.test", name="Sara Lefèvre")
    claim = start_claim(user=rob)
    DomainClaim.objects.unscoped().filter(pk=claim.pk).update(
        status=DomainClaim.Status.VERIFIED, verified_at=timezone.now()
    )
    add_txt(settings.DEV_DNS_FILE, claim.record_name, claim.record_value)
    return rob


def signed_in(new_page, live_server, user, *, locale="en-GB"):
    client = Client()
    client.force_login(user)
    page = new_page(locale=locale)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


def at_step_4(new_page, live_server, *, locale="en-GB"):
    """Rob, whose domain contoso.test is confirmed, on the card form."""
    rob = rob_with_a_confirmed_domain()
    page = signed_in(new_page, live_server, rob, locale=locale)
    page.goto("/upgrade/licences/")
    expect(page.locator("#card-element input[placeholder=number]")).to_be_visible()
    return rob, page


def buy(page):
    page.locator("#purchase-form button[type=submit]").click()


def test_the_card_typed_with_spaces_buys_the_licences(new_page, live_server, localstripe):
    rob, page = at_step_4(new_page, live_server)
    fill_card(page, "4242 4242 4242 4242")
    buy(page)
    page.wait_for_url(re.compile(r"/upgrade/done/$"))
    expect(page.locator("h1")).to_have_text("You are now the admin of contoso.test")
    subscription = Subscription.objects.unscoped().get()
    assert (subscription.quantity, subscription.status) == (2, "active")
    assert Membership.objects.unscoped().get(user=rob).role == Membership.Role.ADMIN


def test_a_year_typed_in_full_and_dashes_are_understood(new_page, live_server, localstripe):
    _rob, page = at_step_4(new_page, live_server)
    fill_card(page, "4242-4242-4242-4242")
    page.locator("#card-element input[placeholder=exp_year]").fill("2040")
    buy(page)
    page.wait_for_url(re.compile(r"/upgrade/done/$"))


def test_card_errors_are_sentences_in_french(new_page, live_server, localstripe):
    _rob, page = at_step_4(new_page, live_server, locale="fr-FR")
    errors = page.locator("#card-errors")

    buy(page)
    expect(errors).to_have_text(
        "Saisissez le numéro de la carte, la date d’expiration et le code de sécurité."
    )

    fill_card(page, "4000 0000 0000 0002")
    buy(page)
    expect(errors).to_have_text(
        "Votre carte a été refusée. Essayez une autre carte, ou demandez la raison à votre banque."
    )

    fill_card(page, "4242 4242 4242")
    buy(page)
    expect(errors).to_have_text("Vérifiez le numéro de la carte : les 16 chiffres imprimés dessus.")

    # localstripe out of reach: the browser's fetch fails ("Failed to fetch" in English).
    page.route(re.compile(r".*/v1/setup_intents/.*"), lambda route: route.abort())
    fill_card(page, "4242 4242 4242 4242")
    buy(page)
    expect(errors).to_contain_text("Le service de paiement est injoignable pour le moment.")
    assert "Failed to fetch" not in page.locator("main").inner_text()
    assert not Subscription.objects.unscoped().exists()


def test_the_card_step_says_so_when_stripe_js_cannot_load(new_page, live_server, localstripe):
    page = signed_in(new_page, live_server, rob_with_a_confirmed_domain())
    page.route(re.compile(r".*/js\.stripe\.com/v3/.*"), lambda route: route.abort())
    page.goto("/upgrade/licences/")
    expect(page.locator("#card-errors")).to_contain_text(
        "The payment service cannot be reached right now. Nothing was charged."
    )
    expect(page.locator("#purchase-form button[type=submit]")).to_be_disabled()
