import re

import pytest
from django.core import mail

from tenancy.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def verification_path(message):
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def sign_up_verify_and_sign_in(page, *, name, email, password, labels):
    page.goto("/accounts/signup/")
    page.get_by_label(labels["name"]).fill(name)
    page.get_by_label(labels["email"]).fill(email)
    page.locator("input[name=password1]").fill(password)
    page.locator("input[name=password2]").fill(password)
    page.get_by_role("button", name=labels["sign_up"]).click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))

    page.goto(verification_path(mail.outbox[-1]))
    page.get_by_role("button", name=labels["confirm"]).click()
    page.wait_for_url(re.compile(r"/$"))


def test_sign_up_verify_and_see_the_launcher(page):
    sign_up_verify_and_sign_in(
        page,
        name="Rob Martin",
        email="rob@contoso.com",
        password="Unusual-Pass-4321",
        labels={
            "name": "Full name",
            "email": "Email",
            "sign_up": "Sign Up",
            "confirm": "Confirm",
        },
    )
    assert page.get_by_role("heading", name="Welcome, Rob Martin").is_visible()
    page.get_by_text("Apps", exact=True).click()
    assert page.locator(".launcher .tile-meetings").is_visible()
    assert page.locator(".launcher .tile-admin").is_visible()
    assert (
        Membership.objects.unscoped().get(user__email="rob@contoso.com").tenant.domain
        == "contoso.com"
    )


def test_sign_up_in_french(page):
    page.goto("/")
    page.get_by_label("Language").select_option("fr")
    page.wait_for_selector("html[lang=fr]")
    sign_up_verify_and_sign_in(
        page,
        name="Sara Lefèvre",
        email="sara@contoso.fr",
        password="Inhabituel-Mot-4321",
        labels={
            "name": "Nom complet",
            "email": "Courriel",
            "sign_up": "Création de compte",
            "confirm": "Confirmer",
        },
    )
    assert page.get_by_role("heading", name="Bienvenue, Sara Lefèvre").is_visible()
    assert page.locator(".launcher .tile-meetings").text_content() == "Réunions"
    assert (
        Membership.objects.unscoped().get(user__email="sara@contoso.fr").tenant.domain
        == "contoso.fr"
    )
