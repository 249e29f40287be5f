import time
from collections.abc import Callable, Iterator
from typing import Any, cast

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.scoping import tenant_scope

from .models import User
from .selectors import has_second_factor, membership_of

# What stays open to a member who must still set up a second factor: allauth's account, two-factor
# and session pages (signing in and out among them), and switching the language.
OPEN_WITHOUT_SECOND_FACTOR = ("account_", "mfa_", "usersessions_")
OPEN_PAGES = {"set_language", "healthz"}
# How often a session's device, IP and "last seen" are written (seconds), and where the session
# remembers when that was.
ACTIVITY_EVERY = 60
ACTIVITY_SEEN_AT = "quorum_activity_seen_at"


class TenantMiddleware:
    """Sets `request.membership` and `request.tenant` (None for users without a tenant) and
    opens the tenant scope (core.scoping) for the whole request, a streamed body included.

    This is the only place that decides which tenant a request acts for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        identity = getattr(request, "identity", None) if request.user.is_authenticated else None
        # The kept identity's membership (tenancy.identity), or the database's.
        request.membership = (  # type: ignore[attr-defined]
            identity.membership if identity is not None else membership_of(request.user)
        )
        tenant = request.membership.tenant if request.membership else None  # type: ignore[attr-defined]
        request.tenant = tenant  # type: ignore[attr-defined]
        with tenant_scope(tenant):
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _in_scope(tenant, response.streaming_content)
        return response


def _in_scope(tenant: object, chunks: Iterator[bytes]) -> Iterator[bytes]:
    # A streamed body (the CSV export) is read after the view returned: keep its scope.
    with tenant_scope(tenant):  # type: ignore[arg-type]
        yield from chunks


class SessionActivityMiddleware:
    """The device, IP and "last seen" of each signed-in session, for the sessions page
    (allauth.usersessions): written at most once a minute per session. allauth's own middleware
    writes them on every request, five queries each time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        now = int(time.time())
        if (
            request.user.is_authenticated
            and session.session_key
            and now - session.get(ACTIVITY_SEEN_AT, 0) >= ACTIVITY_EVERY
        ):
            UserSession.objects.create_from_request(request)
            session[ACTIVITY_SEEN_AT] = now
        return self.get_response(request)


class TwoFactorPolicyMiddleware:
    """When a tenant requires two-factor authentication of every member (its admins set this on
    the admin centre's policies page), a member without a second factor is sent to set one up
    before any other page opens. (Admins always need one: portal.access.admin_required.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        membership = request.membership  # type: ignore[attr-defined]
        if membership is None or not membership.tenant.two_factor_required:
            return None
        name = request.resolver_match.url_name if request.resolver_match else None
        if name and (name in OPEN_PAGES or name.startswith(OPEN_WITHOUT_SECOND_FACTOR)):
            return None
        # A membership is found for signed-in people only.
        if has_second_factor(cast(User, request.user)):
            return None
        messages.warning(
            request,
            _(
                "Your organisation requires two-factor authentication. Set up an authenticator "
                "app or a passkey to go on."
            ),
        )
        return redirect("mfa_index")
