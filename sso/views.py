"""The sign-in page's first step (the address), and allauth's SAML answer page made to explain
a replayed answer instead of a bare 403."""

from typing import Any

from allauth.account.views import LoginView
from allauth.core.ratelimit import consume_or_429
from allauth.mfa import app_settings as mfa_settings
from allauth.socialaccount.providers.saml.views import finish_acs
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from core.middleware import refusals_go_back_to

from . import signin
from .failures import Reason, sign_in_failed
from .forms import AddressForm
from .selectors import connection_by_slug, connection_for_address

PASSWORD_STEP = "password"  # noqa: S105  (a query parameter's name)
ADDRESS_STEP = "sso_address"  # its rate limit in settings.ACCOUNT_RATE_LIMITS


class PasswordLoginView(LoginView):
    """allauth's password sign-in, with the address of the first step already filled in."""

    def get_initial(self) -> dict[str, Any]:
        return {"login": self.request.GET.get("login", "")}


password_login = PasswordLoginView.as_view()


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if safe else ""


@refusals_go_back_to("account_login")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """/accounts/login/: first the address; an address whose organisation signs in through an
    identity provider goes there, any other to allauth's password form (which also serves
    `?password`: the break-glass path, and every password form posted here)."""
    if request.method == "POST" and request.POST.get("step") != "address":
        return password_login(request)
    if request.method == "GET" and PASSWORD_STEP in request.GET:
        return password_login(request)
    if request.user.is_authenticated:
        return redirect(_next_url(request) or settings.LOGIN_REDIRECT_URL)
    if request.method == "POST" and (refusal := consume_or_429(request, action=ADDRESS_STEP)):
        return refusal
    form = AddressForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        email = form.cleaned_data["login"]
        next_url = _next_url(request)
        connection = connection_for_address(email)
        if connection is not None:
            return signin.start(
                request,
                connection=connection,
                purpose=signin.Purpose.SIGN_IN,
                next_url=next_url,
                login_hint=email,
            )
        query = {PASSWORD_STEP: "", "login": email, **({"next": next_url} if next_url else {})}
        return redirect(f"{reverse('account_login')}?{urlencode(query)}")
    context = {
        "form": form,
        "next_url": _next_url(request),
        # The passkey button of allauth's own sign-in page (two-factor's passwordless sign-in).
        "PASSKEY_LOGIN_ENABLED": mfa_settings.PASSKEY_LOGIN_ENABLED,
    }
    return render(request, "sso/login.html", context, status=400 if form.is_bound else 200)


def saml_answer(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """allauth's SAML answer page. allauth refuses an answer to no request of this browser's
    session (replayed, or from another browser) with PermissionDenied: explained here."""
    try:
        return finish_acs(request, organization_slug=organization_slug)
    except PermissionDenied:
        connection = connection_by_slug(organization_slug)
        if connection is None:
            raise
        return sign_in_failed(request, connection=connection, reason=Reason.REPLAYED)
