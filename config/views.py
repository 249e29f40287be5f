import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

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
