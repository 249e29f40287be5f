from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.utils.translation import gettext as _

from .email_domains import work_domain_of_email
from .exceptions import TenancyError

MAX_PASSWORD_LENGTH = 128


class AccountAdapter(DefaultAccountAdapter):
    """Only work addresses may sign up; they are stored in lower case. Mails speak as Quorum."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Without django.contrib.sites, allauth names the site after the request's host: its
        # mails would greet "Hello from 127.0.0.1:8000!".
        site = RequestSite(allauth_context.request)
        site.name = settings.PRODUCT_NAME
        super().send_mail(template_prefix, email, {"current_site": site, **context})

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
