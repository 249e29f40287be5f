"""403, 404, 500 and 503 in the layout, in the person's language, saying what to do."""

import re

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from config.views import server_error
from meetings.services import update_personal_settings

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_member_opening_the_admin_centre_gets_the_styled_403_naming_the_admin(contoso):
    _rob, (sara,), _subscription = contoso
    response = signed_in(sara).get(reverse("portal:dashboard"))
    assert response.status_code == 403
    page = text(response)
    assert '<header class="topbar">' in page and 'class="user-menu"' in page
    assert "This page is not open to you" in page
    assert "What to do: if you need something changed, ask an admin of your organisation." in page
    assert 'Rob Martin &lt;<a href="mailto:rob@contoso.com">' in page
    assert "403 Forbidden" not in page


def test_the_403_speaks_the_persons_language(contoso):
    _rob, (sara,), _subscription = contoso
    update_personal_settings(user=sara, values={"language": "fr"})
    page = text(signed_in(sara).get(reverse("portal:users")))
    assert '<html lang="fr">' in page
    assert "Cette page ne vous est pas ouverte" in page
    assert "L’administrateur de votre organisation :" in page


def test_a_missing_page_gets_the_styled_404(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    page = text(response)
    assert '<header class="topbar">' in page
    assert "Nous n’avons pas trouvé cette page" in page
    assert f'href="{reverse("tenancy:home")}"' in page


def raised(error):
    """server_error as Django calls it: while handling `error`."""
    request = RequestFactory().get("/meetings/")
    try:
        raise error
    except Exception:
        with CaptureQueriesContext(connection) as queries:
            response = server_error(request)
    return response, len(queries)


def test_500_and_503_are_in_the_layout_without_a_query():
    response, queries = raised(ValueError("a bug"))
    assert (response.status_code, queries) == (500, 0)
    page = text(response)
    assert '<header class="topbar">' in page and "Something went wrong" in page
    assert "Sign in" not in page  # nothing that needs the request's user

    response, queries = raised(OperationalError("connection refused"))
    assert (response.status_code, queries, response["Retry-After"]) == (503, 0, "30")
    assert "Quorum is briefly unavailable" in text(response)


def test_500_and_503_in_french():
    with translation.override("fr"):
        page_500 = text(raised(ValueError("a bug"))[0])
        page_503 = text(raised(OperationalError("gone"))[0])
    assert '<html lang="fr">' in page_500 and "Un problème est survenu" in page_500
    assert "Réessayer" in page_503
