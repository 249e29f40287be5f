from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext as _

from .email_domains import work_domain_of_email
from .exceptions import TenancyError

MAX_PASSWORD_LENGTH = 128


class AccountAdapter(DefaultAccountAdapter):
    """Only work addresses may sign up; they are stored in lower case."""

    def clean_email(self, email):
        email = super().clean_email(email).lower()
        try:
            work_domain_of_email(email)
        except TenancyError as error:
            raise forms.ValidationError(error.message) from error
        return email

    def clean_password(self, password, user=None):
        # Hashing a megabyte of password is a denial of service, not a security gain.
        if len(password) > MAX_PASSWORD_LENGTH:
            raise forms.ValidationError(
                _("Passwords can be at most %(max)d characters long.")
                % {"max": MAX_PASSWORD_LENGTH}
            )
        return super().clean_password(password, user=user)
