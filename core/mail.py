"""E-mail printed in the terminal (`make run`), as a person reads it."""

from email.message import EmailMessage as MIMEMessage

from django.core.mail import EmailMessage
from django.core.mail.backends import console

HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date")


class ConsoleEmailBackend(console.EmailBackend):
    """Django's console backend prints the message as sent: long lines come quoted-printable,
    cut by soft line breaks ("=" at the end of a line) and with "=3D" for "=", so a link
    cannot be copied. This one prints the headers and each text part decoded."""

    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(readable(message.message()))
        self.stream.write("-" * 79 + "\n")


def readable(mime: MIMEMessage) -> str:
    """The headers and the decoded text parts of a message; attachments by name."""
    lines = [f"{name}: {mime[name]}" for name in HEADERS if mime[name]]
    for part in mime.walk():
        if part.is_multipart():
            continue
        if part.is_attachment() or part.get_content_maintype() != "text":
            lines += ["", f"[attachment: {part.get_filename() or part.get_content_type()}]"]
            continue
        if part.get_content_type() != "text/plain":
            lines += ["", f"[{part.get_content_type()}]"]
        lines += ["", part.get_content().rstrip("\n")]
    return "\n".join(lines) + "\n"
