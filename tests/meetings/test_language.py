"""The personal "Language" setting: once chosen, every page a signed-in person opens speaks it,
from the next request on, whatever their browser asks for."""

import pytest
from django.test import Client
from django.urls import reverse

from meetings.models import MeetingSettings
from meetings.services import update_personal_settings
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db

SETTINGS_DATA = {
    "default_duration_minutes": "30",
    "lobby_bypass": "organisation",
    "anonymous_join_allowed": "on",
    "recording_allowed": "on",
    "time_zone": "UTC",
}


def lang_of(response):
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def english_browser():
    return Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")


def test_french_chosen_in_the_settings_shows_on_the_next_page(rob):
    client = english_browser()
    client.force_login(rob)
    assert lang_of(client.get(reverse("tenancy:home"))) == "en"
    response = client.post(
        reverse("meetings:settings"), {**SETTINGS_DATA, "language": "fr"}, follow=True
    )
    assert "Vos paramètres de réunion sont enregistrés." in response.content.decode()
    assert lang_of(client.get(reverse("tenancy:home"))) == "fr"
    assert lang_of(client.get(reverse("meetings:list"))) == "fr"
    assert client.cookies["django_language"].value == "fr"


def test_signing_in_brings_the_language_setting_along(rob):
    update_personal_settings(user=rob, values={"language": "fr"})
    client = english_browser()
    response = client.post(
        reverse("account_login"), {"login": rob.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("tenancy:home")
    assert lang_of(response) == "fr"
    assert "Bienvenue" in response.content.decode()
    # Signed out, the sign-in page still speaks it (the language cookie).
    client.post(reverse("account_logout"))
    assert lang_of(client.get(reverse("account_login"))) == "fr"


def test_an_untouched_setting_leaves_the_browser_language(rob):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    client.force_login(rob)
    assert MeetingSettings.objects.get(user=rob).customised == []
    assert lang_of(client.get(reverse("tenancy:home"))) == "fr"


def test_english_chosen_wins_over_a_french_browser(rob):
    update_personal_settings(user=rob, values={"language": "fr"})
    update_personal_settings(user=rob, values={"language": "en"})
    client = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    client.force_login(rob)
    assert lang_of(client.get(reverse("tenancy:home"))) == "en"


def test_the_language_switch_of_a_signed_in_person_changes_their_setting(rob):
    client = english_browser()
    client.force_login(rob)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert MeetingSettings.objects.get(user=rob).language == "fr"
    assert lang_of(client.get(reverse("tenancy:home"))) == "fr"
    # The same person on another browser gets it too.
    other = english_browser()
    other.force_login(rob)
    assert lang_of(other.get(reverse("tenancy:home"))) == "fr"


def test_an_unknown_language_changes_nothing(rob):
    client = english_browser()
    client.force_login(rob)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert MeetingSettings.objects.get(user=rob).language == "en"
    assert lang_of(client.get(reverse("tenancy:home"))) == "en"


def test_a_visitor_switch_only_sets_the_cookie(client):
    member("rob@contoso.com")
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert client.cookies["django_language"].value == "fr"
    assert lang_of(client.get(reverse("account_login"))) == "fr"
