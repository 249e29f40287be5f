from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from django import forms
from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .email_domains import work_domain_of_email
from .exceptions import TenancyError
from .selectors import SECOND_FACTORS, membership_of, second_factor_required
from .services.security import end_sessions

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


class MFAAdapter(DefaultMFAAdapter):
    """allauth.mfa in Quorum's words: a clear message for a wrong or reused code, and no
    removing the last second factor of someone who must have one."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": gettext_lazy(
            "This code is wrong or was already used. Enter the code your authenticator app "
            "shows now, or a recovery code you have not used yet."
        ),
        "cannot_delete_authenticator": gettext_lazy(
            "You must keep a second factor: your organisation requires one. Add another "
            "authenticator app or passkey before removing this one."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        user = authenticator.user
        if authenticator.type not in SECOND_FACTORS:
            return True
        if not second_factor_required(membership_of(user)):
            return True
        others = Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS)
        return others.exclude(pk=authenticator.pk).exists()


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    """Sessions a person ends from their sessions page are noted in their tenant's audit log."""

    def end_sessions(self, sessions) -> None:
        sessions = list(sessions)
        if not sessions:
            return
        request = allauth_context.request
        actor = request.user if request.user.is_authenticated else None
        end_sessions(actor=actor, user=sessions[0].user, sessions=sessions)
