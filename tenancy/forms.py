import unicodedata

from allauth.mfa.webauthn import forms as webauthn_forms
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_person_name(value):
    """A name is shown in many places: no markup characters, no control characters."""
    if any(ch in "<>" for ch in value):
        raise ValidationError(_("A name cannot contain “<” or “>”."))
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise ValidationError(_("A name cannot contain control characters."))


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
