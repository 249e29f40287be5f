"""A signed-in page kept whole in the cache for its session, served again only while nothing it
was built from has changed: never a stale page.

What a page shows comes from four places, and each is in its key or its versions:
- the rows it read: each table's version (core.tables), taken before the table was read, and the
  versions of every kept value it used (core.versioned), checked on every serve;
- the signed-in identity (user, membership, tenant and policy): the versions it was read at,
  which tenancy.identity leaves on the request;
- the request: address (a request with a query string is never served one), host, language,
  the session's contents and the CSRF secret its forms carry;
- the clock: a page is kept at most PAGE_SECONDS, so a time it shows ("starts in 5 minutes",
  a meeting that has just ended) is at most that late.

A page is not kept when its render wrote anything, set a cookie, used the CSP nonce, read a table
this connection wrote and has not committed yet, or had messages to show; nor for htmx's partial
requests. Each page opts in with `@kept_page`, outermost, so its access checks run whenever it
is built; served again, it is served only to the same session and identity it was built for."""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse

from core.versioned import Reads, keep, read_kept, reading

# How late a time shown on a kept page may be; the versions, not this, keep its data fresh.
PAGE_SECONDS = 10


def _key(request: HttpRequest, identity_versions: dict[str, str]) -> str:
    session = request.session
    parts = [
        request.get_host(),
        request.path,
        request.LANGUAGE_CODE,
        session.session_key or "",
        json.dumps(dict(session.items()), sort_keys=True, default=str),
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        str(request.user.pk),
        json.dumps(identity_versions, sort_keys=True),
    ]
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=20).hexdigest()
    return f"page:{digest}"


def _servable(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE
        and request.method == "GET"
        and request.user.is_authenticated
        # The pages are addressed without one: a query string would only make more copies.
        and not request.META.get("QUERY_STRING")
        and not request.headers.get("HX-Request")
        and not len(get_messages(request))
    )


def _keepable(
    request: HttpRequest, response: HttpResponse, reads: Reads, csrf_secret: str | None
) -> bool:
    nonce = getattr(request, "_csp_nonce", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not reads.wrote
        and not nonce
        # Its forms' tokens are of the CSRF secret the browser sent, not of a new one that only
        # this response's cookie carries.
        and request.META.get("CSRF_COOKIE") == csrf_secret
    )


def kept_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the page kept for this request while every version it was built at is current."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _servable(request):  # reads the signed-in user, so its identity is read by now
            return view(request, *args, **kwargs)
        # The versions the signed-in identity was read at (tenancy.identity); none when it was
        # not read from the kept identity (IDENTITY_CACHE off): then no page is kept.
        identity_versions = getattr(request, "identity_versions", None)
        if identity_versions is None:
            return view(request, *args, **kwargs)
        key = _key(request, identity_versions)
        kept = read_kept(key)  # not over rows this connection changed and has not committed
        if kept is not None:
            page = kept[0]
            response = HttpResponse(page["content"], status=page["status"])
            for header, value in page["headers"]:
                response.headers[header] = value
            return response
        reads = Reads()
        csrf_secret = request.META.get("CSRF_COOKIE")
        token = reading.set(reads)
        try:
            response = view(request, *args, **kwargs)
        finally:
            reading.reset(token)
        if _keepable(request, response, reads, csrf_secret):
            page = {
                "status": response.status_code,
                "headers": list(response.headers.items()),
                "content": response.content,
            }
            keep(key, page, reads.versions, PAGE_SECONDS)
        return response

    return wrapper
