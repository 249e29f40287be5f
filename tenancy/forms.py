import unicodedata

from allauth.mfa.webauthn import forms as webauthn_forms
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

# Control characters, and the line and paragraph separators that some software breaks on.
LINE_BREAKING = {"Cc", "Zl", "Zp"}


def validate_person_name(value: str) -> None:
    """A name is shown in many places: no markup characters, no control characters."""
    if any(ch in "<>" for ch in value):
        raise ValidationError(_("A name cannot contain “<” or “>”."))
    if any(unicodedata.category(ch) in {"Cf", *LINE_BREAKING} for ch in value):
        raise ValidationError(_("A name cannot contain control characters."))


def validate_single_line(value: str) -> None:
    """Text that goes into a mail header, such as a subject: one line, no control characters
    (a CR or LF there would end the header and start another, a NUL cut it)."""
    if any(unicodedata.category(ch) in LINE_BREAKING for ch in value):
        raise ValidationError(_("This text cannot contain line breaks or control characters."))


class SignupDetailsForm(forms.Form):
    """The fields allauth's sign-up form adds to e-mail and password."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _("Rob Smith")}),
    )
    field_order = ["name", "email", "password1", "password2"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Please enter your name."))
        return name

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])


KEY_NAME_LABEL = _("Name of the key")
KEY_NAME_MAX_LENGTH = 100
# A WebAuthn credential as the browser sends it: a few kilobytes at most.
CREDENTIAL_MAX_LENGTH = 20_000


def _limit(field: forms.CharField, length: int) -> None:
    # allauth's fields take any length; ours are limited like every text we accept.
    field.max_length = length
    field.validators = [*field.validators, MaxLengthValidator(length)]


class AddWebAuthnForm(webauthn_forms.AddWebAuthnForm):
    """allauth's form adding a passkey or security key, its name field labelled in French too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = KEY_NAME_LABEL


class EditWebAuthnForm(webauthn_forms.EditWebAuthnForm):
    """allauth's form renaming a passkey or security key, labelled in French too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = KEY_NAME_LABEL


_limit(AddWebAuthnForm.base_fields["name"], KEY_NAME_MAX_LENGTH)
_limit(AddWebAuthnForm.base_fields["credential"], CREDENTIAL_MAX_LENGTH)
_limit(EditWebAuthnForm.base_fields["name"], KEY_NAME_MAX_LENGTH)
