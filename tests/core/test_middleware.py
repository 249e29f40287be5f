"""core.middleware.QuorumErrorMiddleware: a refused rule becomes a message, never a 500."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages

from core.errors import QuorumError
from domains.exceptions import DomainsError
from meetings.exceptions import MeetingError
from tenancy.exceptions import TenancyError

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls")]

MESSAGE = "Only 3 people fit in this <meeting>."


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def test_it_is_installed():
    assert "core.middleware.QuorumErrorMiddleware" in settings.MIDDLEWARE


@pytest.mark.parametrize("error", [TenancyError, MeetingError, DomainsError])
def test_each_apps_error_is_a_quorum_error(error):
    assert issubclass(error, QuorumError)
    assert error("Refused.").message == "Refused."


def test_a_refused_post_goes_back_to_the_page_it_was_sent_from(client):
    referer = "http://testserver/admin/users/?sort=email"
    response = client.post("/refused/", headers={"Referer": referer})
    assert (response.status_code, response["Location"]) == (302, referer)
    assert messages_of(response) == [("error", MESSAGE)]


@pytest.mark.parametrize(
    "referer", ["https://evil.example/admin/", "//evil.example/", "javascript:alert(1)", ""]
)
def test_a_referer_off_this_site_is_not_followed(client, referer):
    """Nor is the refused address itself (often POST only): the message shows on a 400 page."""
    response = client.post("/refused/?step=2", headers={"Referer": referer})
    assert response.status_code == 400
    assert "Location" not in response
    assert "Only 3 people fit in this &lt;meeting&gt;." in response.content.decode()


def test_a_refused_get_shows_the_message_on_a_400_page(client):
    response = client.get("/refused/")
    assert response.status_code == 400
    page = response.content.decode()
    assert '<li class="message error">Only 3 people fit in this &lt;meeting&gt;.</li>' in page
    assert "Nothing was changed." in page


def test_the_page_speaks_the_persons_language(client):
    client.cookies["django_language"] = "fr"
    page = client.get("/refused/").content.decode()
    assert "Rien n’a été modifié." in page


def test_other_errors_are_left_to_the_500_handler(client):
    with pytest.raises(ValueError, match="a programming error"):
        client.get("/broken/")


def test_a_view_names_where_a_refused_post_without_referer_goes(client):
    response = client.post("/refused-from-a-page/")
    assert (response.status_code, response["Location"]) == (302, "/refused/")
    assert messages_of(response) == [("error", MESSAGE)]
