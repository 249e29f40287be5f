"""The one place where a refused business rule becomes a message for the user."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from core.errors import QuorumError


class QuorumErrorMiddleware:
    """A QuorumError raised by a view shows its message instead of a server error.

    After a POST the person goes back to the page they sent it from (the Referer, when it is on
    this site; else the same address), with the message on it; any other request gets a 400
    page showing the message. The service's transaction was rolled back, so nothing changed.
    Views that show a refusal their own way (a form kept as typed, an htmx fragment) still
    catch it themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, QuorumError):
            return None
        messages.error(request, str(exception.message))
        if request.method == "POST":
            return HttpResponseRedirect(_page_sent_from(request))
        return render(request, "core/refused.html", status=400)


def _page_sent_from(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
