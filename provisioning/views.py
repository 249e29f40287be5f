"""The SCIM endpoints under /scim/v2/: a provisioning token authenticates, its tenant is the scope,
scim2-server answers (provisioning.scim)."""

import json
import logging
import time
from http import HTTPStatus

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from scim2_models import PayloadTooLargeException, SCIMException, UnauthorizedException
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation

from core.scoping import tenant_scope

from .models import ProvisioningToken
from .scim import MAX_BODY_BYTES, SERVICE, ProvisionedUsers
from .selectors import token_presented
from .services.tokens import note_token_use

logger = logging.getLogger(__name__)
RATE_WINDOW_SECONDS = 60


class TooManyRequestsException(SCIMException):
    """The token sent more requests than its rate limit allows (HTTP 429, no scimType)."""

    status = 429


@csrf_exempt
def scim(request: HttpRequest, path: str = "") -> HttpResponse:
    scim_request = ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri("/scim/v2"),
        path=path or "/",
        query=request.GET.dict(),
        headers=dict(request.headers),
    )
    try:
        if _describes_the_service(scim_request):
            # RFC 7643 §5: what the service supports is readable without authentication.
            with SERVICE.provider:
                response = SERVICE.service_provider_config(scim_request.url, scim_request.query)
            return _http_response(response)
        token = _authenticated(request)
        _within_rate_limit(token)
        scim_request.body = _body(request)
        note_token_use(token=token)
        with tenant_scope(token.tenant):
            response = ScimHandler(SERVICE, ProvisionedUsers(token)).handle(scim_request)
    except TooManyRequestsException as error:
        response = SERVICE.error_response(error)
        response.headers["Retry-After"] = str(RATE_WINDOW_SECONDS)
    except Exception as error:
        if not isinstance(error, SCIMException):
            logger.exception("SCIM %s %s failed", request.method, path)
        response = SERVICE.error_response(error)
    return _http_response(response)


def _describes_the_service(scim_request: ScimRequest) -> bool:
    try:
        target = SERVICE.match(scim_request)
    except SCIMException:
        return False
    return target.operation is Operation.service_provider_config and scim_request.method == "GET"


def _authenticated(request: HttpRequest) -> ProvisioningToken:
    scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
    token = token_presented(presented.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise UnauthorizedException(
            detail=_("Send a provisioning token of Quorum's admin centre as a Bearer token.")
        )
    if token.is_revoked:
        raise UnauthorizedException(detail=_("This provisioning token was revoked."))
    return token


def _within_rate_limit(token: ProvisioningToken) -> None:
    key = f"provisioning:requests:{token.pk}:{int(time.time() // RATE_WINDOW_SECONDS)}"
    try:
        count = cache.incr(key)  # no add() but for the window's first request
    except ValueError:
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)  # another request may have won
        count = cache.incr(key)
    if count > settings.SCIM_REQUESTS_PER_MINUTE:
        raise TooManyRequestsException(
            detail=_("Too many requests with this token: at most %(limit)d a minute.")
            % {"limit": settings.SCIM_REQUESTS_PER_MINUTE}
        )


def _body(request: HttpRequest) -> bytes:
    """The body, refused before it is read when it is larger than a resource can be."""
    too_large = PayloadTooLargeException(
        detail=_("A request body has at most %(max)d bytes.") % {"max": MAX_BODY_BYTES}
    )
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise too_large
    return body


def _http_response(response: ScimResponse) -> HttpResponse:
    content = b"" if response.body is None else json.dumps(response.body).encode()
    http = HttpResponse(content, status=response.status)
    for name, value in response.headers.items():
        http[name] = value
    http.setdefault("Cache-Control", "no-cache")
    if response.status == HTTPStatus.NO_CONTENT:
        del http["Content-Type"]
    return http
