"""allauth's adapters: each tenant's identity provider comes from its SsoConnection at run time,
and the password paths know about enforced single sign-on."""

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from tenancy.adapter import AccountAdapter as TenancyAccountAdapter
from tenancy.forms import validate_person_name
from tenancy.models import User

from . import signin
from .failures import reason_of, sign_in_failed
from .selectors import connection_by_slug, enforced_connection_for

NAME_LENGTH = User._meta.get_field("name").max_length


class AccountAdapter(TenancyAccountAdapter):
    def send_password_reset_mail(self, user: Any, email: str, context: dict[str, Any]) -> None:
        # Under enforced single sign-on a member has no password to reset: they are told
        # where to sign in instead (the page says the same to everyone: no enumeration).
        connection = enforced_connection_for(user)
        if connection is not None:
            context = {**context, "organisation": connection.tenant.domain}
            self.send_mail("sso/email/password_reset_off", email, context)
            return
        super().send_password_reset_mail(user, email, context)

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            signin.signed_in(sociallogin, user)
        return super().post_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        # Only ever the one connection a URL or an account names: the sign-in page never lists
        # every tenant's identity provider.
        connection = connection_by_slug(client_id or provider or "")
        return [] if connection is None else [signin.social_app_of(connection)]

    def is_email_verified(self, provider: Any, email: str) -> bool:
        # The IdP's addresses count as verified only where it is trusted: its tenant's proven
        # domains and their subdomains (allauth's own setting would list exact domains).
        connection = connection_by_slug(provider.app.provider_id) if provider.app else None
        return connection is not None and signin.vouches_for(connection, email)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        signin.vouched_address(request, sociallogin)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: BaseException | None = None,
        extra_context: dict | None = None,
    ) -> None:
        connection = connection_by_slug(provider.app.provider_id) if provider else None
        if connection is None:
            return
        extra_context = extra_context or {}
        state = extra_context.get("state") or {}
        reason, detail = reason_of(error=error, exception=exception, extra_context=extra_context)
        raise ImmediateHttpResponse(
            sign_in_failed(
                request,
                connection=connection,
                reason=reason,
                detail=detail,
                testing=(state.get("data") or {}).get("purpose") == signin.Purpose.TEST,
                next_url=state.get("next") or "",
            )
        )

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").lower()
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        name = " ".join(str(name or "").split())[:NAME_LENGTH]
        try:
            validate_person_name(name)
        except ValidationError:  # markup or control characters from the IdP: the address will do
            name = ""
        user.name = name or user.email.partition("@")[0]
        return user
