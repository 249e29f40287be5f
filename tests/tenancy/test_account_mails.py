"""allauth's mails (verification, password reset) speak as the product, not as the host name."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import member

from .test_signup import signup


@pytest.mark.django_db
def test_the_verification_mail_greets_from_quorum(client):
    signup(client, "rob@contoso.com")
    message = mail.outbox[-1]
    assert message.subject.startswith("[Quorum] ")
    assert message.body.startswith("Hello from Quorum!")
    assert "Thank you for using Quorum!" in message.body
    assert "Hello from testserver" not in message.body


@pytest.mark.django_db
def test_the_password_reset_mail_greets_from_quorum_in_french(client):
    member("rob@contoso.com")
    client.post(
        reverse("account_reset_password"),
        {"email": "rob@contoso.com"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    body = mail.outbox[-1].body
    assert body.startswith("Bonjour, c'est Quorum !")
    assert "Merci d'utiliser Quorum !" in body
