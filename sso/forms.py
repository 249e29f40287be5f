"""The sign-in page's first step, and allauth's password forms under enforced single sign-on."""

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import SsoConnection
from .selectors import enforced_connection_for, enforced_connection_for_address


def _enforced(connection: SsoConnection) -> ValidationError:
    return ValidationError(
        gettext(
            "%(organisation)s signs in through its identity provider: enter your address on "
            "the first step of the sign-in page, without a password. Only its admins may use "
            "a password."
        )
        % {"organisation": connection.tenant.domain}
    )


class AddressForm(forms.Form):
    """The sign-in page's first step: the address decides between the IdP and a password."""

    login = forms.EmailField(
        label=_("Work e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_login(self) -> str:
        return self.cleaned_data["login"].strip().lower()


class LoginForm(AllauthLoginForm):
    """allauth's password sign-in, closed to the members of a tenant that enforces single
    sign-on (its admins keep it: the break-glass path)."""

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        user = getattr(self, "user", None)
        connection = enforced_connection_for(user) if user is not None else None
        if connection is not None:
            raise _enforced(connection)
        return cleaned_data


class SignupForm(AllauthSignupForm):
    """allauth's sign-up: at a domain whose tenant enforces single sign-on, accounts are made
    by signing in through its identity provider."""

    def clean_email(self) -> str:
        email = super().clean_email()
        connection = enforced_connection_for_address(email)
        if connection is not None:
            raise _enforced(connection)
        return email


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
    """Setting a password from a reset link (or an invitation): not for the members of a tenant
    that enforces single sign-on, whatever link they kept."""

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        connection = enforced_connection_for(self.user) if self.user is not None else None
        if connection is not None:
            raise _enforced(connection)
        return cleaned_data
