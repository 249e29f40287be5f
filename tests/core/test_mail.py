"""The mails of `make run`, printed in its terminal: a person reads them and copies links."""

import io

from django.core.mail import EmailMultiAlternatives

from core.mail import ConsoleEmailBackend

LINK = (
    "http://127.0.0.1:8000/accounts/confirm-email/"
    "MQ:1vPwXy:aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghijklmnop/"
)


def printed(message):
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def test_a_long_link_is_printed_whole_and_accents_as_they_are():
    message = EmailMultiAlternatives(
        subject="[Quorum] Confirmez votre adresse e-mail",
        body=f"Bonjour, c'est Quorum !\n\nPour confirmer, ouvrez {LINK}\n\nMerci, Sara Lefèvre",
        from_email="Quorum <no-reply@quorum.example>",
        to=["sara@contoso.test"],
    )
    message.attach_alternative(f'<p><a href="{LINK}">Confirmer</a></p>', "text/html")
    text = printed(message)
    assert f"ouvrez {LINK}\n" in text
    assert "Sara Lefèvre" in text
    assert "Subject: [Quorum] Confirmez votre adresse e-mail" in text
    assert "To: sara@contoso.test" in text
    assert "[text/html]" in text and f'<a href="{LINK}">' in text
    assert "=\n" not in text and "=3D" not in text and "quoted-printable" not in text


def test_attachments_are_named_not_dumped():
    message = EmailMultiAlternatives(subject="Export", body="Here it is.", to=["rob@contoso.test"])
    message.attach("members.csv", "email,name\n" * 1000, "text/csv")
    text = printed(message)
    assert "[attachment: members.csv]" in text
    assert "email,name" not in text
