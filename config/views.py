import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from core.health import OK, readiness
from core.metrics import authorized, exposition
from tenancy.selectors import admins_of


@requires_csrf_token
def permission_denied(request, exception):
    """403 in the layout, naming whom to ask: a member who opened the admin centre."""
    tenant = getattr(request, "tenant", None)
    admins = admins_of(tenant) if tenant is not None else ()
    return render(request, "403.html", {"admins": admins}, status=403)


@requires_csrf_token
def server_error(request):
    """A lost database is our outage, not a bug the user met: a 503 that says to try again.

    Rendered without the request's context processors, which would query the lost database.
    Writes run in transactions, so a request cut off by the outage left nothing half-done."""
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.render_to_string("500.html"))


@require_GET
def healthz(request):
    """For the load balancer's probe, and the baseline of `make bench`: the same middleware as
    every page, no query, no template."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """For the orchestrator's readiness probe: 200 when the database (migrated), the cache, the
    broker and a Celery worker all answer; 503 naming what does not."""
    checks = readiness()
    ready = all(state == OK for state in checks.values())
    response = JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
    add_never_cache_headers(response)
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape of this web container, for the bearer of METRICS_TOKEN (404 without
    a token configured, 401 without the right one)."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not authorized(request.headers.get("Authorization", ""), settings.METRICS_TOKEN):
        response = HttpResponse("A valid metrics token is required.", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
