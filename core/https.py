"""HTTPS behind a TLS-terminating proxy: redirect only what the proxy says came over plain http."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect


class RedirectToHttpsMiddleware:
    """Sends to https a request the proxy reports as http (settings.SECURE_PROXY_SSL_HEADER).

    Django's SECURE_SSL_REDIRECT would also redirect calls that reach the app directly, without a
    proxy: the compose stack on localhost:8000, health probes, localstripe's webhooks. Those carry
    no proxy header and are served as they came."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = settings.SECURE_PROXY_SSL_HEADER
        if header:
            name, secure_value = header
            reported = request.META.get(name, "").split(",")[0].strip()
            if reported and reported != secure_value:
                return HttpResponsePermanentRedirect(
                    f"https://{request.get_host()}{request.get_full_path()}"
                )
        return self.get_response(request)
