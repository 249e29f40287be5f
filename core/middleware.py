"""The one place where a refused business rule becomes a message for the user."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import QuorumError


class QuorumErrorMiddleware:
    """A QuorumError raised by a view shows its message instead of a server error.

    After a POST the person goes back to the page they sent it from (the Referer, when it is on
    this site; else the page the view names with `@refusals_go_back_to`), with the message on
    it; any other request, and a POST with nowhere to go back to, gets a 400 page showing the
    message. The service's transaction was rolled back, so nothing changed.
    Views that show a refusal their own way (a form kept as typed, an htmx fragment) still
    catch it themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        request.refusals_go_back_to = getattr(view, "refusals_go_back_to", None)  # type: ignore[attr-defined]

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, QuorumError):
            return None
        messages.error(request, str(exception.message))
        back = _page_sent_from(request)
        if request.method == "POST" and back:
            return HttpResponseRedirect(back)
        return render(request, "core/refused.html", status=400)


def _page_sent_from(request: HttpRequest) -> str | None:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    back = getattr(request, "refusals_go_back_to", None)
    return reverse(back) if back else None


def refusals_go_back_to[V: Callable[..., Any]](url_name: str) -> Callable[[V], V]:
    """Name the page a refused POST of this view goes back to when the browser sent no Referer
    (an action posted from that page)."""

    def mark(view: V) -> V:
        view.refusals_go_back_to = url_name  # type: ignore[attr-defined]
        return view

    return mark
